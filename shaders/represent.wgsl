// represent.wgsl: the size of each region's task representation, after the probe trials of the
// motor task. One thread per neuron: its spikes in the response windows of each cue's trials
// (counted by `neurons` while T_CUE names the cue) give its preferred cue; the neuron is selective
// when those spikes reach T_MIN and at least twice its mean over the other cues. Selective
// neurons are counted per region after the per-neuron counters, which are cleared.
// reference/mod.rs `represent` is the CPU twin.

@group(0) @binding(2) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(3) var<storage, read_write> task: array<atomic<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n = gid.x + gid.y * MAX_GROUPS_X * 64u;
    if n >= g.n_neurons {
        return;
    }
    let cues = atomicLoad(&task[T_CUES]);
    let at = TASK_WORDS + n * REP_CUES;
    var best = 0u;
    var sum = 0u;
    for (var c = 0u; c < cues; c++) {
        let k = atomicLoad(&task[at + c]);
        best = max(best, k);
        sum += k;
        atomicStore(&task[at + c], 0u);
    }
    if cues > 1u && best >= atomicLoad(&task[T_MIN]) && best * (cues - 1u) >= 2u * (sum - best) {
        let region = pops[neurons[n].pop].region;
        atomicAdd(&task[TASK_WORDS + g.n_neurons * REP_CUES + region], 1u);
    }
}
