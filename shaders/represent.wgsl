// represent.wgsl: the size of each region's task representation, after the probe trials of the
// motor task. One thread per neuron, one dispatch per part of the neurons (the delay ring's
// parts): its spikes in the response windows of each cue's trials (counted by `neurons` into the
// part's `rep` while T_CUE names the cue) give its preferred cue; the neuron is selective when
// those spikes reach T_MIN and at least twice its mean over the other cues. Selective neurons are
// counted per region after the task's fixed words, and the per-neuron counters are cleared.
// reference/mod.rs `represent` is the CPU twin.

@group(0) @binding(2) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(3) var<storage, read_write> task: array<atomic<u32>>;
// This part's cue counters (REP_CUES words a neuron, by `local`) and [first neuron, neurons].
@group(0) @binding(4) var<storage, read_write> rep: array<u32>;
@group(0) @binding(5) var<storage, read> ring_info: array<u32, 4>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let local = gid.x + gid.y * MAX_GROUPS_X * 64u;
    let cues = atomicLoad(&task[T_CUES]);
    let min_spikes = atomicLoad(&task[T_MIN]);
    let part_first = ring_info[0];
    if local >= ring_info[1] {
        return;
    }
    let n = part_first + local;
    let at = local * REP_CUES;
    var best = 0u;
    var sum = 0u;
    for (var c = 0u; c < cues; c++) {
        let k = rep[at + c];
        best = max(best, k);
        sum += k;
        rep[at + c] = 0u;
    }
    if cues > 1u && best >= min_spikes && best * (cues - 1u) >= 2u * (sum - best) {
        let region = pops[neurons[n].pop].region;
        atomicAdd(&task[TASK_WORDS + region], 1u);
    }
}
