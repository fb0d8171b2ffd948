//! The structural-plasticity stages (shaders/structure.wgsl): every structural interval, element
//! growth, the spine life cycle, partner choice and the outgoing-index rebuild, all on the GPU;
//! at samples, the census of spines by state and age and of calcium and elements per population.

use super::buffers::{Buffers, ShardBuffers};
use super::stage::{self, PerShard};
use crate::layout::ROW_CHUNK;

/// Storage buffers the widest structure entry binds (`accept`).
pub const STORAGE_BUFFERS: u32 = 12;

pub struct Structure {
    begin: (wgpu::ComputePipeline, wgpu::BindGroup),
    elements: PerShard,
    pool_blocks: (wgpu::ComputePipeline, wgpu::BindGroup),
    blocks_top: (wgpu::ComputePipeline, wgpu::BindGroup),
    pool_apply: (wgpu::ComputePipeline, wgpu::BindGroup),
    /// Workgroups of the block scans (x, y).
    scan_groups: (u32, u32),
    spines: PerShard,
    tidy: Option<PerShard>,
    form: PerShard,
    accept: PerShard,
    zero: PerShard,
    count: PerShard,
    scan_blocks: PerShard,
    scan_apply: PerShard,
    scatter: PerShard,
    sort: PerShard,
    census_begin: (wgpu::ComputePipeline, wgpu::BindGroup),
    census: PerShard,
    /// Calcium and elements per population, a thread per neuron (pipeline, binds, workgroups).
    census_pops: (wgpu::ComputePipeline, wgpu::BindGroup, (u32, u32)),
    shards: usize,
    /// Per shard, whether it holds rows that structural plasticity can change
    /// (Network::structural_shards): the others are skipped by the per-slot passes, and by the
    /// index rebuild unless a lesion emptied slots since the last one.
    structural: Vec<bool>,
    /// Per shard, whether it is in the compact static layout (never rebuilt: it has no index of
    /// slots).
    compact: Vec<bool>,
}

/// Records a one-workgroup dispatch.
fn single(pb: &(wgpu::ComputePipeline, wgpu::BindGroup)) -> impl Fn(&mut wgpu::ComputePass) + '_ {
    move |pass: &mut wgpu::ComputePass| {
        pass.set_pipeline(&pb.0);
        pass.set_bind_group(0, &pb.1, &[]);
        pass.dispatch_workgroups(1, 1, 1);
    }
}

fn chunks(s: &ShardBuffers) -> u64 {
    (s.slots / ROW_CHUNK) as u64
}

impl Structure {
    /// `tidy` runs when slots keep an eligibility or late phase (`has_elig`). `workgroup_sort`
    /// sorts each source's list with a workgroup (GPUs) rather than one thread (CPU adapters,
    /// where barriers are dear); both give the same index.
    pub fn new(device: &wgpu::Device, b: &Buffers, has_elig: bool, workgroup_sort: bool) -> Self {
        let n = b.n_neurons as u64;
        let single = |entry: &str, binds: &[(u32, &wgpu::Buffer)]| {
            let p = stage::pipeline(device, "structure", entry);
            let bind = stage::bind(device, &format!("structure.{entry}"), &p, binds);
            (p, bind)
        };
        // Items per workgroup: 64 threads of one item each, or (`per_group`) one workgroup per item.
        let per_items = |entry: &str,
                         group: u64,
                         items: &dyn Fn(&ShardBuffers) -> u64,
                         binds: &dyn Fn(&ShardBuffers) -> Vec<(u32, u32)>| {
            // (binding, buffer code) pairs resolved per shard below.
            PerShard::entry(device, "structure", entry, &b.shards, group, items, |s| {
                binds(s).into_iter().map(|(i, code)| (i, buffer(b, s, code))).collect()
            })
        };
        let per =
            |entry: &str, items: &dyn Fn(&ShardBuffers) -> u64, binds: &dyn Fn(&ShardBuffers) -> Vec<(u32, u32)>| {
                per_items(entry, 64, items, binds)
            };
        let per_group =
            |entry: &str, items: &dyn Fn(&ShardBuffers) -> u64, binds: &dyn Fn(&ShardBuffers) -> Vec<(u32, u32)>| {
                per_items(entry, 1, items, binds)
            };
        let neurons_of = |s: &ShardBuffers| s.neurons as u64;
        let at_least_one = |s: &ShardBuffers| chunks(s).max(1);
        Structure {
            begin: single("begin", &[(0, &b.globals), (17, &b.sstats)]),
            elements: per("elements", &neurons_of, &|_| {
                vec![
                    (0, G),
                    (1, POPS),
                    (3, ROWS),
                    (4, PRE),
                    (11, STRUCT),
                    (12, GROW),
                    (13, ELEM_AXON),
                    (25, ELEM_SPINE),
                    (26, ELEM_SPINE_IN),
                    (14, BOUTONS),
                    (16, DEMAND),
                    (17, SSTATS),
                    (19, MODULATORS),
                    (24, STATUS),
                ]
            }),
            pool_blocks: single("pool_blocks", &[(0, &b.globals), (13, &b.elem_axon), (23, &b.blocks)]),
            blocks_top: single("blocks_top", &[(0, &b.globals), (23, &b.blocks)]),
            pool_apply: single(
                "pool_apply",
                &[(0, &b.globals), (13, &b.elem_axon), (15, &b.pool), (23, &b.blocks)],
            ),
            scan_groups: stage::groups((n + 1).div_ceil(1024), 1),
            spines: per("spines", &chunks, &|_| {
                vec![
                    (0, G),
                    (1, POPS),
                    (2, SIM),
                    (3, ROWS),
                    (4, PRE),
                    (5, WEIGHT),
                    (6, DELAY),
                    (7, OWNER),
                    (8, BORN),
                    (11, STRUCT),
                    (13, ELEM_AXON),
                    (25, ELEM_SPINE),
                    (26, ELEM_SPINE_IN),
                    (17, SSTATS),
                ]
            }),
            tidy: has_elig.then(|| per("tidy", &chunks, &|_| vec![(3, ROWS), (4, PRE), (9, ELIG), (10, LATE)])),
            form: per("form", &neurons_of, &|_| {
                vec![
                    (0, G),
                    (1, POPS),
                    (2, SIM),
                    (3, ROWS),
                    (4, PRE),
                    (6, DELAY),
                    (11, STRUCT),
                    (25, ELEM_SPINE),
                    (26, ELEM_SPINE_IN),
                    (15, POOL),
                    (16, DEMAND),
                    (17, SSTATS),
                    (18, POSITIONS),
                ]
            }),
            accept: per("accept", &chunks, &|_| {
                vec![
                    (0, G),
                    (1, POPS),
                    (2, SIM),
                    (3, ROWS),
                    (4, PRE),
                    (5, WEIGHT),
                    (6, DELAY),
                    (7, OWNER),
                    (8, BORN),
                    (11, STRUCT),
                    (13, ELEM_AXON),
                    (16, DEMAND),
                    (17, SSTATS),
                ]
            }),
            zero: per("zero", &|_| n + 1, &|_| vec![(0, G), (20, OUT_START)]),
            count: per("count", &chunks, &|_| {
                vec![
                    (0, G),
                    (1, POPS),
                    (3, ROWS),
                    (4, PRE),
                    (7, OWNER),
                    (11, STRUCT),
                    (14, BOUTONS),
                    (20, OUT_START),
                ]
            }),
            // A workgroup per block of 1024 sources.
            scan_blocks: per_group("scan_blocks", &|_| (n + 1).div_ceil(1024), &|_| {
                vec![(0, G), (20, OUT_START), (23, BLOCKS)]
            }),
            scan_apply: per_group("scan_apply", &|_| (n + 1).div_ceil(1024), &|_| {
                vec![(0, G), (20, OUT_START), (22, CURSOR), (23, BLOCKS)]
            }),
            scatter: per("scatter", &at_least_one, &|_| {
                vec![(3, ROWS), (4, PRE), (21, OUT_SLOTS), (22, CURSOR)]
            }),
            sort: if workgroup_sort {
                // A workgroup per source.
                per_group("sort", &|_| n, &|_| vec![(0, G), (20, OUT_START), (21, OUT_SLOTS)])
            } else {
                per("sort_thread", &|_| n, &|_| {
                    vec![(0, G), (20, OUT_START), (21, OUT_SLOTS)]
                })
            },
            census_begin: single("census_begin", &[(0, &b.globals), (11, &b.structure), (17, &b.sstats)]),
            census_pops: {
                let (p, bind) = single(
                    "census_pops",
                    &[
                        (0, &b.globals),
                        (1, &b.pops),
                        (12, &b.grow),
                        (13, &b.elem_axon),
                        (25, &b.elem_spine),
                        (26, &b.elem_spine_in),
                        (17, &b.sstats),
                        (24, &b.status),
                    ],
                );
                (p, bind, stage::groups(n, 64))
            },
            census: per("census", &chunks, &|_| {
                vec![
                    (0, G),
                    (1, POPS),
                    (2, SIM),
                    (3, ROWS),
                    (4, PRE),
                    (6, DELAY),
                    (7, OWNER),
                    (8, BORN),
                    (11, STRUCT),
                    (17, SSTATS),
                    (18, POSITIONS),
                ]
            }),
            shards: b.shards.len(),
            structural: b.shards.iter().map(|s| s.structural).collect(),
            compact: b.shards.iter().map(|s| s.compact).collect(),
        }
    }

    /// Records one structural update (the step header has already advanced to the next step).
    /// `rebuild_all`: rebuild every shard's outgoing index, not only the structural shards' (after
    /// a lesion, which empties slots anywhere).
    pub fn record(&self, pass: &mut wgpu::ComputePass, rebuild_all: bool) {
        for (_, phase) in self.phases(rebuild_all) {
            phase(pass);
        }
    }

    /// The update's phases in order, each with its name (for per-phase timing).
    #[expect(clippy::type_complexity, reason = "a list of named recording closures")]
    pub fn phases(&self, rebuild_all: bool) -> Vec<(&'static str, Box<dyn Fn(&mut wgpu::ComputePass) + '_>)> {
        let grows = |k: usize| self.structural[k];
        // A shard in the compact static layout keeps no index of slots: a lesion marks its
        // synapses removed in place.
        let rebuilt = move |k: usize| (rebuild_all && !self.compact[k]) || self.structural[k];
        let groups = self.scan_groups;
        let blocks = move |pass: &mut wgpu::ComputePass, (p, bind): &(wgpu::ComputePipeline, wgpu::BindGroup)| {
            pass.set_pipeline(p);
            pass.set_bind_group(0, bind, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        };
        let mut list: Vec<(&'static str, Box<dyn Fn(&mut wgpu::ComputePass) + '_>)> = vec![
            ("begin", Box::new(single(&self.begin))),
            ("elements", Box::new(|p| self.elements.record(p))),
            (
                "pool",
                Box::new(move |p| {
                    blocks(p, &self.pool_blocks);
                    single(&self.blocks_top)(p);
                    blocks(p, &self.pool_apply);
                }),
            ),
            ("spines", Box::new(move |p| self.spines.record_where(p, grows))),
        ];
        if let Some(t) = &self.tidy {
            list.push(("tidy", Box::new(move |p| t.record_where(p, grows))));
        }
        list.push(("form", Box::new(|p| self.form.record(p))));
        list.push(("accept", Box::new(move |p| self.accept.record_where(p, grows))));
        list.push((
            "count",
            Box::new(move |p| {
                self.zero.record_where(p, rebuilt);
                self.count.record_where(p, rebuilt);
            }),
        ));
        // The cursors are shared: each shard scans and scatters in turn.
        list.push((
            "scan+scatter",
            Box::new(move |p| {
                for k in (0..self.shards).filter(|&k| rebuilt(k)) {
                    self.scan_blocks.record_one(p, k);
                    single(&self.blocks_top)(p);
                    self.scan_apply.record_one(p, k);
                    self.scatter.record_one(p, k);
                }
            }),
        ));
        list.push(("sort", Box::new(move |p| self.sort.record_where(p, rebuilt))));
        list
    }

    /// Records the census of spines by state and age, and of calcium and elements per population
    /// (before a sample's readback).
    pub fn record_census(&self, pass: &mut wgpu::ComputePass) {
        pass.set_pipeline(&self.census_begin.0);
        pass.set_bind_group(0, &self.census_begin.1, &[]);
        pass.dispatch_workgroups(1, 1, 1);
        self.census.record_where(pass, |k| self.structural[k]);
        let (p, bind, (x, y)) = &self.census_pops;
        pass.set_pipeline(p);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups(*x, *y, 1);
    }
}

// Buffer codes for the per-shard binding lists.
const G: u32 = 0;
const POPS: u32 = 1;
const SIM: u32 = 2;
const ROWS: u32 = 3;
const PRE: u32 = 4;
const WEIGHT: u32 = 5;
const DELAY: u32 = 6;
const OWNER: u32 = 7;
const BORN: u32 = 8;
const ELIG: u32 = 9;
const LATE: u32 = 10;
const STRUCT: u32 = 11;
const GROW: u32 = 12;
const ELEM_AXON: u32 = 13;
const BOUTONS: u32 = 14;
const POOL: u32 = 15;
const DEMAND: u32 = 16;
const SSTATS: u32 = 17;
const POSITIONS: u32 = 18;
const MODULATORS: u32 = 19;
const OUT_START: u32 = 20;
const OUT_SLOTS: u32 = 21;
const CURSOR: u32 = 22;
const BLOCKS: u32 = 23;
const STATUS: u32 = 24;
const ELEM_SPINE: u32 = 25;
const ELEM_SPINE_IN: u32 = 26;

fn buffer<'a>(b: &'a Buffers, s: &'a ShardBuffers, code: u32) -> &'a wgpu::Buffer {
    match code {
        G => &b.globals,
        POPS => &b.pops,
        SIM => &b.sim,
        ROWS => &s.rows,
        PRE => &s.syn_pre,
        WEIGHT => &s.syn_weight,
        DELAY => &s.syn_delay,
        OWNER => &s.syn_owner,
        BORN => &s.syn_born,
        ELIG => &s.syn_elig,
        LATE => &s.syn_late,
        STRUCT => &b.structure,
        GROW => &b.grow,
        ELEM_AXON => &b.elem_axon,
        ELEM_SPINE => &b.elem_spine,
        ELEM_SPINE_IN => &b.elem_spine_in,
        BOUTONS => &b.boutons,
        POOL => &b.pool,
        DEMAND => &b.demand,
        SSTATS => &b.sstats,
        POSITIONS => &b.positions,
        MODULATORS => &b.modulators,
        OUT_START => &s.out_start,
        OUT_SLOTS => &s.out_slots,
        CURSOR => &b.cursor,
        BLOCKS => &b.blocks,
        STATUS => &b.status,
        _ => unreachable!("unknown buffer code {code}"),
    }
}
