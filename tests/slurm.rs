//! Sweeps on Slurm: a 2 x 2 sweep submitted to a real single-node cluster started by the test
//! (munged, slurmctld and slurmd on this machine, with their own key, ports and folders) writes
//! the same files as the sweep run here; a task killed mid-run leaves no folder that looks
//! finished, and is the one task resubmitted; damaged, foreign or outdated plans are refused.
//! (CPU engine: the jobs' bookkeeping is under test; the GPU equals the twin elsewhere.)
//!
//! Without Slurm's and munge's programs the cluster test fails, saying what to install (.ci/run
//! installs slurm-wlm and munge), as GPU tests fail without an adapter: it never skips itself.

mod common;

use rewire::sim::{EngineChoice, RunOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const GRID: [&str; 2] = ["protocol.Rehab.trials=4,8", "protocol.Lesion.kind.core_mm=0.75,0.88"];

/// The fields of summary.json that hold wall-clock times.
const WALL_CLOCK: [&str; 5] = [
    "build_s",
    "wall_s",
    "steps_per_s",
    "realtime_factor",
    "synaptic_events_per_s",
];

fn rewire() -> Command {
    common::rewire()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// Runs `c`, panicking with its output unless it succeeds.
fn ok(c: &mut Command) -> Output {
    let o = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(
        o.status.success(),
        "{c:?} failed:\n{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    o
}

/// Runs `c`, panicking unless it fails; returns its stderr.
fn fails(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(!o.status.success(), "{c:?} succeeded:\n{}", text(&o.stdout));
    text(&o.stderr)
}

/// The short rehab_timing protocol (tests/common), written into `dir`.
/// `rewire sweep-task OUT STEP --cpu`.
fn sweep_task(out: &Path, step: &str) -> Command {
    let mut c = rewire();
    c.arg("sweep-task").arg(out).args([step, "--cpu"]);
    c
}

fn scene(dir: &Path) -> PathBuf {
    let path = dir.join("short_timing.ron");
    std::fs::write(&path, common::short_timing()).unwrap();
    path
}

/// `rewire sweep SCENE --set GRID... --out OUT --cpu`, and `extra`.
fn sweep(scene: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = rewire();
    c.arg("sweep").arg(scene).arg("--out").arg(out).arg("--cpu");
    for g in GRID {
        c.args(["--set", g]);
    }
    c.args(extra);
    c
}

/// The folder names of the grid's four scenarios, in order.
fn names(scene: &Path) -> Vec<String> {
    let sets: Vec<_> = GRID
        .iter()
        .map(|g| rewire::scene::set::SetOption::parse(g).unwrap())
        .collect();
    let plan = rewire::sweep::plan(scene, &sets).unwrap();
    plan.scenarios.iter().map(|s| s.name.clone()).collect()
}

/// The sweep run here, once per test binary: what every Slurm run must equal. The last of the
/// tests that compare with it removes it.
static LOCAL: OnceLock<PathBuf> = OnceLock::new();
static LOCAL_USERS: AtomicUsize = AtomicUsize::new(2);

fn local() -> &'static Path {
    LOCAL.get_or_init(|| {
        let dir = common::temp_dir("local");
        let out = dir.join("sweep");
        let sets: Vec<_> = GRID
            .iter()
            .map(|g| rewire::scene::set::SetOption::parse(g).unwrap())
            .collect();
        let plan = rewire::sweep::plan(&scene(&dir), &sets).unwrap();
        let opts = RunOptions {
            engine: EngineChoice::Cpu,
            duration_ms: None,
            progress: false,
        };
        rewire::sweep::run(&plan, &out, &opts, |_| {}).unwrap();
        out
    })
}

fn summary_without_wall_clock(dir: &Path) -> serde_json::Value {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in WALL_CLOCK {
        assert!(
            v.as_object_mut().unwrap().remove(key).is_some(),
            "summary.json has no {key}"
        );
    }
    v
}

/// Every scenario's files, its summary but for wall-clock times, the index and the comparison
/// in `out` equal those of the local sweep, byte for byte.
fn same_as_local(out: &Path, names: &[String]) {
    let local = local();
    for name in names {
        let (a, b) = (local.join(name), out.join(name));
        common::same_files(&a, &b, &common::PROTOCOL_FILES);
        common::same_files(&a, &b, &["scene.ron", "settings.txt"]);
        assert_eq!(summary_without_wall_clock(&a), summary_without_wall_clock(&b), "{name}");
        assert!(!out.join(format!("{name}.partial")).exists());
    }
    common::same_files(local, out, &["comparison.csv", "sweep.csv"]);
    assert!(out.join("comparison.png").is_file() && out.join("comparison.svg").is_file());
}

/// Called by each test that compares with the local sweep when it is done: the last removes it.
fn done_with_local() {
    if LOCAL_USERS.fetch_sub(1, Ordering::SeqCst) == 1 {
        std::fs::remove_dir_all(local().parent().unwrap()).unwrap();
    }
}

#[test]
fn a_task_killed_mid_run_leaves_no_finished_folder_and_is_the_one_resubmitted() {
    let dir = common::temp_dir("killed");
    let scene = scene(&dir);
    let out = dir.join("sweep");
    let names = names(&scene);
    // Writing the plan and scripts needs no Slurm.
    ok(&mut sweep(&scene, &out, &["--slurm"]));
    for f in [
        "plan.json",
        "prefix.sbatch",
        "array.sbatch",
        "compare.sbatch",
        "submit.sh",
        "sweep.csv",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(out.join("logs").is_dir());
    let out_s = out.to_str().unwrap();
    let task = |step: &str| sweep_task(&out, step);
    // A task before the prefix job has run refuses, saying why.
    let e = fails(&mut task("0"));
    assert!(e.contains("the prefix job must succeed first"), "{e}");
    ok(&mut task("prefix"));
    for i in ["0", "1", "3"] {
        ok(&mut task(i));
    }

    // Task 2 killed (SIGKILL) while it runs: its folder is still NAME.partial. The run takes a
    // fraction of a second, so a kill that came too late (the task finished) is tried again.
    let partial = out.join(format!("{}.partial", names[2]));
    let killed = (0..5).any(|_| {
        let _ = std::fs::remove_dir_all(out.join(&names[2]));
        let mut child = task("2").stderr(Stdio::null()).spawn().unwrap();
        let t0 = Instant::now();
        while !partial.exists() && child.try_wait().unwrap().is_none() {
            assert!(t0.elapsed() < Duration::from_secs(60), "task 2 never started");
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().unwrap();
        child.wait().unwrap().code().is_none()
    });
    assert!(killed, "task 2 finished each time before it could be killed");
    assert!(
        !out.join(&names[2]).exists(),
        "a killed task left a finished-looking folder"
    );
    assert!(partial.is_dir());
    let e = fails(&mut task("compare"));
    assert!(
        e.contains(&format!("1 of 4 scenarios have not finished: {};", names[2]))
            && e.contains("rewire sweep-resubmit"),
        "{e}"
    );

    // The resubmission is exactly task 2 (the prefix is there) and a new comparison.
    let o = ok(rewire().args(["sweep-resubmit", out_s]));
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert!(
        stderr.contains(&format!("1 scenarios have not finished:\n  {}\n", names[2])),
        "{stderr}"
    );
    assert!(stderr.contains("array tasks to run again: 2\n"), "{stderr}");
    let sbatch: Vec<&str> = stdout.lines().filter(|l| l.contains("sbatch ")).collect();
    assert_eq!(sbatch.len(), 2, "{stdout}");
    assert!(
        sbatch[0].starts_with("array=$(sbatch --parsable --array=2 /"),
        "{stdout}"
    );
    assert!(sbatch[1].contains("--dependency=afterany:") && sbatch[1].ends_with("compare.sbatch)"));

    ok(&mut task("2"));
    let again = ok(&mut task("2"));
    assert!(text(&again.stderr).contains(&format!("{}: done already", names[2])));
    ok(&mut task("compare"));
    same_as_local(&out, &names);
    let o = ok(rewire().args(["sweep-resubmit", out_s]));
    assert!(text(&o.stderr).contains("nothing to resubmit") && o.stdout.is_empty());
    done_with_local();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_plans_and_indices_are_refused_with_the_reason() {
    let dir = common::temp_dir("badplan");
    let scene = scene(&dir);
    let out = dir.join("sweep");
    let out_s = out.to_str().unwrap();
    let task = |step: &str| sweep_task(&out, step);
    let e = fails(&mut task("0"));
    assert!(e.contains("plan.json: no sweep plan here"), "{e}");
    let e = fails(&mut sweep(&scene, &out, &["--time=01:00:00"]));
    assert!(e.contains("go with --slurm"), "{e}");
    let e = fails(&mut sweep(&scene, &out, &["--slurm", "--time=1 hour"]));
    assert!(e.contains("--time \"1 hour\": not a valid sbatch value"), "{e}");
    assert!(!out.exists());

    ok(&mut sweep(&scene, &out, &["--slurm", "--per-task", "3"]));
    let e = fails(&mut task("2"));
    assert!(e.contains("index 2 is out of range: the plan in"), "{e}");
    assert!(e.contains("has 2 array tasks (0 to 1)"), "{e}");
    // Another grid into the same folder would give its queued tasks other scenarios.
    let e = fails(&mut sweep(&scene, &out, &["--slurm"]));
    assert!(e.contains("holds the plan of another sweep"), "{e}");
    ok(&mut sweep(&scene, &out, &["--slurm", "--per-task", "3"]));

    let plan = out.join("plan.json");
    let good = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(&plan, &good[..good.len() / 2]).unwrap();
    let e = fails(&mut task("0"));
    assert!(e.contains("plan.json: not a sweep plan (damaged?)"), "{e}");
    std::fs::write(
        &plan,
        good.replace("\"written_by\": \"rewire ", "\"written_by\": \"rewire 0.0.0-"),
    )
    .unwrap();
    let e = fails(&mut task("0"));
    assert!(e.contains("written by rewire 0.0.0-"), "{e}");
    assert!(e.contains("write the plan again with this rewire"), "{e}");
    std::fs::write(&plan, &good).unwrap();
    let e = fails(rewire().args(["sweep-task", out_s]).env_remove("SLURM_ARRAY_TASK_ID"));
    assert!(e.contains("run in a Slurm array job"), "{e}");

    // The scene file changed after the plan was written.
    std::fs::write(&scene, common::short_timing().replace("seed: 3", "seed: 4")).unwrap();
    for step in ["prefix", "0", "compare"] {
        let e = fails(&mut task(step));
        assert!(e.contains("has changed since the plan was written"), "{step}: {e}");
    }
    let e = fails(rewire().args(["sweep-resubmit", out_s]));
    assert!(e.contains("has changed since the plan was written"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A single-node Slurm cluster on this machine: munged with a fresh key on its own socket,
/// slurmctld and slurmd from one slurm.conf with free ports, everything in one temporary folder.
/// Dropping it cancels its jobs, stops the daemons it started and removes the folder.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

/// Where a program is on PATH (or in /usr/sbin, /sbin).
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Two ports free now (bound together, so they differ), for slurmctld and slurmd: each run of
/// the test has its own, so a second run never meets the first's sockets in TIME_WAIT.
fn free_ports() -> (u16, u16) {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (a, b) = (bind(), bind());
    (a.local_addr().unwrap().port(), b.local_addr().unwrap().port())
}

impl Cluster {
    fn start(name: &str) -> Cluster {
        let programs = [
            "munged",
            "slurmctld",
            "slurmd",
            "sbatch",
            "squeue",
            "scontrol",
            "scancel",
            "sinfo",
        ];
        let missing: Vec<&str> = programs.iter().copied().filter(|p| which(p).is_none()).collect();
        assert!(
            missing.is_empty(),
            "the Slurm test needs Slurm's and munge's programs and cannot find {missing:?}: install them \
             (apt-get install slurm-wlm munge; .ci/run does)"
        );
        let dir = common::temp_dir(name);
        let mut cluster = Cluster {
            conf: dir.join("slurm.conf"),
            dir,
            daemons: Vec::new(),
        };
        let d = cluster.dir.clone();
        let key = d.join("munge.key");
        let mut bytes = vec![0u8; 1024];
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut bytes)
            .unwrap();
        std::fs::write(&key, &bytes).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).unwrap();
        let socket = d.join("munge.socket");
        let arg = |flag: &str, p: &Path| format!("--{flag}={}", p.display());
        let mut munged = Command::new(which("munged").unwrap());
        munged.arg("--foreground").args([
            arg("key-file", &key),
            arg("socket", &socket),
            arg("pid-file", &d.join("munged.pid")),
            arg("log-file", &d.join("munged.log")),
            arg("seed-file", &d.join("munged.seed")),
        ]);
        cluster.spawn("munged", &mut munged);
        cluster.wait_for("munged's socket", |_| socket.exists());

        // The node as slurmd sees it (name, CPUs, sockets, cores, memory).
        let o = ok(Command::new(which("slurmd").unwrap())
            .arg("-C")
            .env_remove("SLURM_CONF"));
        let node = text(&o.stdout)
            .lines()
            .find(|l| l.starts_with("NodeName="))
            .unwrap_or_else(|| panic!("slurmd -C: {}", text(&o.stdout)))
            .to_string();
        let host = node["NodeName=".len()..].split_whitespace().next().unwrap().to_string();
        let (ctld_port, d_port) = free_ports();
        for sub in ["state", "spool"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let p = |name: &str| d.join(name).display().to_string();
        let conf = format!(
            "ClusterName=rewiretest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket}
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation={state}
SlurmdSpoolDir={spool}
SlurmctldPidFile={ctld_pid}
SlurmdPidFile={d_pid}
SlurmctldLogFile={ctld_log}
SlurmdLogFile={d_log}
{node} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
",
            socket = socket.display(),
            state = p("state"),
            spool = p("spool"),
            ctld_pid = p("slurmctld.pid"),
            d_pid = p("slurmd.pid"),
            ctld_log = p("slurmctld.log"),
            d_log = p("slurmd.log"),
        );
        std::fs::write(&cluster.conf, conf).unwrap();
        for daemon in ["slurmctld", "slurmd"] {
            let mut c = Command::new(which(daemon).unwrap());
            c.arg("-D").arg("-f").arg(&cluster.conf);
            cluster.spawn(daemon, &mut c);
        }
        cluster.wait_for("the node to be idle", |c| {
            c.command("sinfo")
                .args(["-h", "-o", "%t"])
                .output()
                .is_ok_and(|o| text(&o.stdout).trim() == "idle")
        });
        cluster
    }

    /// Starts a daemon in the foreground, its output into `DIR/NAME.out`.
    fn spawn(&mut self, name: &'static str, c: &mut Command) {
        let log = std::fs::File::create(self.dir.join(format!("{name}.out"))).unwrap();
        c.env("SLURM_CONF", &self.conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = c.spawn().unwrap_or_else(|e| panic!("starting {name}: {e}"));
        self.daemons.push((name, child));
    }

    /// Waits up to a minute for `ready`, failing with the daemons' logs when one has died.
    fn wait_for(&mut self, what: &str, ready: impl Fn(&Cluster) -> bool) {
        let t0 = Instant::now();
        while !ready(self) {
            let dead = self.daemons.iter_mut().find_map(|(name, child)| {
                let status = child.try_wait().unwrap()?;
                Some(format!("{name} exited ({status})"))
            });
            if let Some(dead) = dead {
                panic!("{dead} waiting for {what}:\n{}", self.logs());
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "no {what} after 60 s:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A Slurm client command for this cluster.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(which(program).unwrap_or_else(|| program.into()));
        c.env("SLURM_CONF", &self.conf);
        c
    }

    /// The ids of the jobs queued or running.
    fn queued(&self) -> Vec<String> {
        let o = ok(self.command("squeue").args(["-h", "-o", "%i"]));
        text(&o.stdout).split_whitespace().map(String::from).collect()
    }

    /// The end of every daemon's log, and the queue: what a failure shows.
    fn logs(&self) -> String {
        let mut s = String::new();
        for f in [
            "munged.log",
            "slurmctld.out",
            "slurmctld.log",
            "slurmd.out",
            "slurmd.log",
        ] {
            let t = std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
            let tail: Vec<&str> = t.lines().rev().take(15).collect();
            s.push_str(&format!("== {f}\n"));
            for l in tail.iter().rev() {
                s.push_str(l);
                s.push('\n');
            }
        }
        if let Ok(o) = self.command("squeue").output() {
            s.push_str(&format!("== squeue\n{}", text(&o.stdout)));
        }
        s
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Jobs still there (after a failure) first, then the daemons, newest first, politely.
        if self.daemons.len() == 3 {
            let ids = self.command("squeue").args(["-h", "-o", "%i"]).output();
            let ids: Vec<String> = ids.map_or(Vec::new(), |o| {
                text(&o.stdout).split_whitespace().map(String::from).collect()
            });
            if !ids.is_empty() {
                let _ = self.command("scancel").args(&ids).status();
                std::thread::sleep(Duration::from_secs(2));
            }
        }
        for (_, child) in self.daemons.iter_mut().rev() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let t0 = Instant::now();
            while matches!(child.try_wait(), Ok(None)) && t0.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `WHAT ID` lines that `--submit` prints.
fn job_ids(o: &Output) -> Vec<(String, String)> {
    text(&o.stdout)
        .lines()
        .map(|l| {
            let (what, id) = l.split_once(' ').unwrap_or_else(|| panic!("{l:?}"));
            (what.to_string(), id.to_string())
        })
        .collect()
}

impl Cluster {
    /// Waits until no job is queued or running (10 minutes at most; the jobs take seconds).
    fn wait_for_jobs(&self) -> Duration {
        let t0 = Instant::now();
        while !self.queued().is_empty() {
            assert!(
                t0.elapsed() < Duration::from_secs(600),
                "the jobs did not end in 10 minutes:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        t0.elapsed()
    }

    /// Checks that each job ended COMPLETED (an array: each of its `tasks`), showing the sweep's
    /// logs when one did not; returns the array's span, its first start to its last end.
    fn completed(&self, jobs: &[(String, String)], tasks: usize, out: &Path) -> String {
        let mut span = String::new();
        for (what, id) in jobs {
            let shown = text(&ok(self.command("scontrol").args(["show", "job", id, "-o"])).stdout);
            let field =
                |key: &str| -> Vec<&str> { shown.split_whitespace().filter_map(|w| w.strip_prefix(key)).collect() };
            let expected = if what == "array" { tasks } else { 1 };
            if field("JobState=") != vec!["COMPLETED"; expected] {
                let mut logs = String::new();
                for e in std::fs::read_dir(out.join("logs")).unwrap() {
                    let p = e.unwrap().path();
                    logs.push_str(&format!("== {}\n{}", p.display(), std::fs::read_to_string(&p).unwrap()));
                }
                panic!("{what} job {id}: {shown}\n{logs}");
            }
            if what == "array" {
                let (starts, ends) = (field("StartTime="), field("EndTime="));
                span = format!("{} to {}", starts.iter().min().unwrap(), ends.iter().max().unwrap());
            }
        }
        span
    }
}

#[test]
fn a_sweep_submitted_to_a_slurm_cluster_equals_the_sweep_run_here() {
    let t0 = Instant::now();
    let cluster = Cluster::start("cluster");
    let started = t0.elapsed();
    let dir = common::temp_dir("slurm");
    let scene = scene(&dir);
    // A folder name with a space: paths in the scripts are quoted.
    let out = dir.join("rehab grid");
    let names = names(&scene);
    let o = ok(sweep(&scene, &out, &["--slurm", "--submit", "--time=00:10:00"]).env("SLURM_CONF", &cluster.conf));
    let jobs = job_ids(&o);
    let what: Vec<&str> = jobs.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(what, ["prefix", "array", "compare"], "{}", text(&o.stdout));
    let ran = cluster.wait_for_jobs();
    let span = cluster.completed(&jobs, 4, &out);
    let logs = |array: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(out.join("logs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(&format!("{array}_")))
            .collect();
        v.sort();
        v
    };
    let array = &jobs[1].1;
    assert_eq!(
        logs(array),
        (0..4).map(|i| format!("{array}_{i}.out")).collect::<Vec<_>>()
    );
    same_as_local(&out, &names);
    assert!(!out.join("prefix.partial").exists() && out.join("prefix.rwck").is_file());

    // Scenario 1 lost (as if its task had failed): the resubmission runs that one task, then
    // compares again.
    std::fs::remove_dir_all(out.join(&names[1])).unwrap();
    std::fs::remove_file(out.join("comparison.csv")).unwrap();
    let resubmitted = Instant::now();
    let o = ok(rewire()
        .arg("sweep-resubmit")
        .arg(&out)
        .arg("--submit")
        .env("SLURM_CONF", &cluster.conf));
    let jobs = job_ids(&o);
    let what: Vec<&str> = jobs.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(what, ["array", "compare"], "{}", text(&o.stdout));
    cluster.wait_for_jobs();
    cluster.completed(&jobs, 1, &out);
    assert_eq!(logs(&jobs[0].1), [format!("{}_1.out", jobs[0].1)]);
    same_as_local(&out, &names);
    done_with_local();
    eprintln!(
        "cluster up in {:.1} s; prefix, 4-task array and comparison ran in {:.1} s (the array from {span}); \
         the resubmission in {:.1} s; test {:.1} s",
        started.as_secs_f64(),
        ran.as_secs_f64(),
        resubmitted.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    drop(cluster);
    std::fs::remove_dir_all(&dir).unwrap();
}
