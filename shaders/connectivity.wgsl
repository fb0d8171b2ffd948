// connectivity.wgsl: region x region synapse counts and weight sums, one thread per slot of one
// shard (run once per shard). Cell (source region, target region) holds [count, weight-sum low
// word, high word]: the sum is a 64-bit two's-complement fixed-point number (scale conn_scale),
// added with carry.

@group(0) @binding(2) var<storage, read> neurons: array<NeuronState>;
@group(0) @binding(3) var<storage, read> syn_pre: array<u32>;
@group(0) @binding(4) var<storage, read> syn_weight: array<f32>;
@group(0) @binding(5) var<storage, read_write> conn: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read> syn_owner: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let slot = gid.x + gid.y * MAX_GROUPS_X * 256u;
    if slot >= arrayLength(&syn_pre) {
        return;
    }
    let pre = syn_pre[slot];
    if pre == EMPTY {
        return;
    }
    let src_region = pops[neurons[pre].pop].region;
    let dst_region = pops[neurons[syn_owner[slot >> ROW_CHUNK_SHIFT]].pop].region;
    let cell = 3u * (src_region * g.n_regions + dst_region);
    atomicAdd(&conn[cell], 1u);
    let w = i32(round(syn_weight[slot] * g.conn_scale));
    let lo = bitcast<u32>(w);
    let hi = select(0u, 0xffffffffu, w < 0);
    let old = atomicAdd(&conn[cell + 1u], lo);
    let carry = select(0u, 1u, old + lo < old);
    atomicAdd(&conn[cell + 2u], hi + carry);
}
