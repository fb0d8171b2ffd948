mod common;
use rewire::build::build;
use rewire::engine::Engine;
#[test]
fn dump() {
    let model = rewire::scene::load(std::path::Path::new("scenes/izhikevich2003.ron")).unwrap();
    let net = build(&model);
    let steps = 4000u32;
    let mut e = rewire::reference::CpuEngine::new(&net, steps);
    e.advance(steps as u64).unwrap();
    let raster = e.raster().unwrap();
    let words = net.globals.raster_words as usize;
    let mut out = String::new();
    for t in 0..steps as usize {
        let c = |a: usize, b: usize| {
            (a..b)
                .filter(|&n| raster[t * words + n / 32] >> (n % 32) & 1 == 1)
                .count()
        };
        out.push_str(&format!("{},{}\n", c(0, 800), c(800, 1000)));
    }
    std::fs::write("/tmp/proto/izh.csv", out).unwrap();
}
