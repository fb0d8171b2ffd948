// lesion.wgsl: remove the synapses a lesion destroys, once per shard, one thread per pair of
// slots (one delay word; `bytes` for rows whose delays are bytes): every synapse from or onto a dead neuron (status without
// STATUS_ALIVE), and every synapse from region a onto region b where cut[a * n_regions + b] != 0.
// A removed slot becomes empty (source EMPTY, weight 0, spine state cleared, eligibility and late
// phase 0), as structural pruning leaves it, so spines can form there later. The index still
// lists it until a structural update rebuilds it; delivery adds its weight 0 and learning skips
// it. reference/lesion.rs is the CPU twin.
//
// `by_source` is the same for the compact static layout (docs/ARCHITECTURE.md), which keeps
// synapses in source order with their targets: one workgroup per presynaptic neuron walks its
// synapses, zeroes the weight of each one to remove and sets COMPACT_REMOVED in its delay byte (an
// atomic OR: a word's four bytes may belong to two sources). The delay bits stay, as the twin
// keeps a removed slot's delay.

@group(0) @binding(2) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(3) var<storage, read> status: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> syn_pre: array<u32>;
@group(0) @binding(5) var<storage, read_write> syn_weight: array<f32>;
@group(0) @binding(6) var<storage, read_write> syn_delay: array<u32>;
@group(0) @binding(7) var<storage, read> syn_owner: array<u32>;
@group(0) @binding(8) var<storage, read_write> syn_elig: array<f32>;
@group(0) @binding(9) var<storage, read_write> syn_late: array<f32>;
@group(0) @binding(10) var<storage, read> cut: array<u32>;
@group(0) @binding(11) var<storage, read> out_start: array<u32>;
@group(0) @binding(13) var<storage, read_write> syn_delay8: array<atomic<u32>>;

fn alive(n: u32) -> bool {
    return (status[n].x & STATUS_ALIVE) != 0u;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    remove(gid.x + gid.y * MAX_GROUPS_X * 256u, true);
}

// Rows whose delays are bytes (build::Network::delay_byte_shards) keep no spine state: the same
// without touching the delays.
@compute @workgroup_size(256)
fn bytes(@builtin(global_invocation_id) gid: vec3<u32>) {
    remove(gid.x + gid.y * MAX_GROUPS_X * 256u, false);
}

// Slots 2 word and 2 word + 1; `spines`: their 16-bit delay words hold spine state to clear.
fn remove(word: u32, spines: bool) {
    if 2u * word >= arrayLength(&syn_pre) {
        return;
    }
    var delays = 0u;
    if spines {
        delays = syn_delay[word];
    }
    for (var h = 0u; h < 2u; h++) {
        let slot = 2u * word + h;
        let pre = syn_pre[slot];
        if pre == EMPTY {
            continue;
        }
        let post = syn_owner[slot >> ROW_CHUNK_SHIFT];
        let src_region = pops[neurons[pre].pop].region;
        let dst_region = pops[neurons[post].pop].region;
        if alive(pre) && alive(post) && cut[src_region * g.n_regions + dst_region] == 0u {
            continue;
        }
        syn_pre[slot] = EMPTY;
        syn_weight[slot] = 0.0;
        delays &= ~((SPINE_STABLE | SPINE_PROPOSED) << (16u * h));
        if slot < arrayLength(&syn_elig) {
            syn_elig[slot] = 0.0;
        }
        if slot < arrayLength(&syn_late) {
            syn_late[slot] = 0.0;
        }
    }
    if spines {
        syn_delay[word] = delays;
    }
}

@compute @workgroup_size(64)
fn by_source(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let pre = wg.x + wg.y * MAX_GROUPS_X;
    if pre >= g.n_neurons {
        return;
    }
    let src_region = pops[neurons[pre].pop].region;
    for (var k = out_start[pre] + lid; k < out_start[pre + 1u]; k += 64u) {
        let post = syn_owner[k];
        let dst_region = pops[neurons[post].pop].region;
        if alive(pre) && alive(post) && cut[src_region * g.n_regions + dst_region] == 0u {
            continue;
        }
        syn_weight[k] = 0.0;
        atomicOr(&syn_delay8[k >> 2u], COMPACT_REMOVED << ((k & 3u) * 8u));
    }
}
