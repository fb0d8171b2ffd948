// stream.wgsl: the adapter's memory bandwidth, for judging the stages against it (rewire bench).
// Each thread copies one 16-byte word: a pure streaming read and write, as in STREAM's copy.

@group(0) @binding(2) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * MAX_GROUPS_X * 256u;
    if i < arrayLength(&src) {
        dst[i] = src[i];
    }
}
