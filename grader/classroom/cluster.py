"""``--cluster local|slurm|tcp://HOST:PORT``: a class graded as Dask tasks, one ``python -m grader`` per submission.

Each submission is one task (``remote.grade``) that runs the grader in a child process on a worker,
inside the same sandbox layers as on one machine. Reports are written under OUT, which must be on a
file system that the workers share, and the records, the gradebook and the resume rules are those of
the local process pool (``jobs``). Dask is optional: ``make grade-all CLUSTER=...`` installs it.
"""
import contextlib
import gc
import logging
import shlex
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from .. import child
from ..sandbox import procs
from . import remote
from .gradebook import ERROR, Record
from .jobs import Stop, outcome, publish, seed_of, settings_of

LOCAL, SLURM = "local", "slurm"
CONFIG = Path(__file__).resolve().parents[2] / "cluster.yaml"
EXAMPLE = Path(__file__).resolve().with_name("slurm.example.yaml")
POLL = 0.5
LOST = "the Dask worker grading it was lost {count} times"


class ClusterError(Exception):
    """The cluster cannot be used; the message says why and what to do."""


def dask():
    """The distributed module, or a clear error when the optional dependencies are missing."""
    try:
        import distributed
    except ImportError as error:
        raise ClusterError(f"Dask is not installed ({error}); `make grade-all CLUSTER=...` installs it, "
                           "or run `uv sync --group cluster`") from None
    return distributed


def slurm_options(path=None):
    """(SLURMCluster's options, number of jobs) from the YAML configuration at ``path``."""
    import yaml
    path = Path(path or CONFIG)
    if not path.is_file():
        raise ClusterError(f"no SLURM configuration at {path}: copy {EXAMPLE} there (or name yours with "
                           "CLUSTER_CONFIG=path) and set its queue, account, cores, memory and walltime")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ClusterError(f"{path} is not readable YAML: {error}") from None
    unknown = set(config) - {"jobs", "slurm"} if isinstance(config, dict) else {"(not a mapping)"}
    options = config.get("slurm") if not unknown else None
    jobs = config.get("jobs", 1) if not unknown else None
    if unknown or not isinstance(options, dict) or not isinstance(jobs, int) or jobs < 1:
        raise ClusterError(f"{path} must hold `jobs:` (a positive number) and a `slurm:` mapping, as in {EXAMPLE}")
    prologue = [f"cd {shlex.quote(str(child.KIT))}", *options.get("job_script_prologue", [])]
    return {**options, "python": sys.executable, "job_script_prologue": prologue}, jobs


def job_script(path=None):
    """The sbatch script that ``CLUSTER=slurm`` submits for each job, rendered without SLURM."""
    from dask_jobqueue import SLURMCluster
    options, _jobs = slurm_options(path)
    secrets = tempfile.mkdtemp(prefix="d2l-kit-tls-")
    cluster = SLURMCluster(**options, security=True, shared_temp_directory=secrets)
    script = cluster.job_script().replace(secrets, "OUT/.work/RUN/tls")
    cluster.close()
    del cluster
    gc.collect()        # the credentials' files go with the cluster's objects, then their folder
    shutil.rmtree(secrets, ignore_errors=True)
    return script


def start_cluster(spec, workers, config, secrets):
    """The cluster that ``spec`` names (None for a scheduler address). Its connections use TLS with
    credentials made for this run, so no other process, student code included, can hand it tasks."""
    distributed = dask()
    if spec == LOCAL:
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                                        dashboard_address=":0", silence_logs=logging.ERROR, protocol="tls://",
                                        security=distributed.Security.temporary(), preload=[remote.__name__])
    if spec == SLURM:
        from dask_jobqueue import SLURMCluster
        options, jobs = slurm_options(config)
        secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
        cluster = SLURMCluster(**options, security=True, shared_temp_directory=str(secrets))
        cluster.scale(jobs=jobs)
        return cluster
    if "://" in spec:
        return None
    raise ClusterError(f"unknown cluster {spec!r}: use local, slurm or a scheduler address tcp://host:8786")


@contextlib.contextmanager
def connect(spec, workers, config=None, secrets=None):
    """A Dask client for ``spec``: a local cluster of ``workers`` one-thread workers, SLURM jobs, or an address."""
    distributed = dask()
    import dask as dask_core
    # A worker's death also counts against the tasks that only waited on it; the attempts that really
    # started are counted by the tasks themselves (remote.claim), so the scheduler is told to be lenient.
    settings = {"distributed.scheduler.allowed-failures": remote.ATTEMPTS + 2,
                "distributed.scheduler.worker-saturation": 1.0}
    with dask_core.config.set(settings):
        cluster = start_cluster(spec, workers, config, secrets)
        try:
            client = distributed.Client(cluster or spec, timeout="20s")
        except (OSError, TimeoutError) as error:
            if cluster is not None:
                cluster.close()
            raise ClusterError(f"cannot reach the Dask scheduler at {spec}: {error}") from None
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
            if spec == LOCAL:       # a grader whose task did not report back in time does not outlive the run
                procs.kill_descendants()


def task_of(job, args, run):
    """What the worker needs to grade one submission."""
    return {"student": job.student, "folder": str(job.folder), "run": str(run), "seed": seed_of(job, args),
            "device": args.device, "timeout": args.timeout}


def record_of(job, future, settings):
    """The record of a finished task, None when it was interrupted; ClusterError for a worker that cannot grade."""
    if future.status == "error":
        error = future.exception()
        if type(error).__name__ == "KilledWorker":
            return lost(job, settings, f"the Dask workers running it were lost too often ({error}"[:200] + ")")
        return lost(job, settings, f"the grading task failed on its worker: {type(error).__name__}: {error}")
    result = future.result()
    if result.get("problem"):
        raise ClusterError(result["problem"])
    if result.get("interrupted"):
        return None
    if result.get("lost"):
        return lost(job, settings, LOST.format(count=remote.ATTEMPTS))
    job.work, job.timed_out = Path(result["work"]), result["timed_out"]
    return outcome(job, settings, result["code"], result["seconds"])


def lost(job, settings, note):
    """An error record for a submission whose workers were lost, with an empty report folder of its own."""
    job.work = job.work.with_name(f"{job.student}.lost")
    job.work.mkdir(parents=True, exist_ok=True)
    return Record(student=job.student, status=ERROR, seconds=0.0, note=note[:300], fingerprint=job.fingerprint,
                  settings=settings)


def run(jobs, args, progress):
    """Grade every job as a Dask task on ``args.cluster``; return the students whose grading was interrupted."""
    from tqdm import tqdm

    from .gradebook import fingerprint
    settings, stopper = settings_of(args), Stop()
    run_folder = args.out.resolve() / ".work" / f"run-{uuid.uuid4().hex[:12]}"
    run_folder.mkdir(parents=True)
    try:
        with connect(args.cluster, args.jobs, args.cluster_config, run_folder / "tls") as client:
            tqdm.write(f"Dask scheduler {client.scheduler.address}, dashboard {client.dashboard_link}", file=sys.stderr)
            for job in jobs:
                job.fingerprint = fingerprint(job.folder)
            futures = {client.submit(remote.grade, task_of(job, args, run_folder), pure=False,
                                     key=("grade", run_folder.name, job.student)): job for job in jobs}
            try:
                return collect(futures, settings, progress, stopper, run_folder)
            finally:
                (run_folder / remote.STOP).touch()     # tasks still running stop their graders
                client.cancel(list(futures))
    finally:
        shutil.rmtree(run_folder, ignore_errors=True)


def collect(futures, settings, progress, stopper, run_folder):
    """Publish each result as it comes; on a stop request ask every task to stop and wait for them a while."""
    distributed, pending, interrupted, stopped = dask(), set(futures), [], 0.0
    while pending:
        try:
            done, pending = distributed.wait(pending, timeout=POLL, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = ()
        for future in done:
            job = futures[future]
            record = record_of(job, future, settings)
            if record is None:
                interrupted.append(job.student)
                continue
            publish(job, record)
            progress(record)
        if stopper.count and not stopped:
            (run_folder / remote.STOP).touch()
            stopped = time.monotonic()
        if stopped and (stopper.count > 1 or time.monotonic() - stopped > 3 * remote.GRACE):
            break
    return interrupted + [futures[future].student for future in pending]


def main(argv=None):
    """``python -m grader.classroom.cluster [CONFIG]``: print the sbatch script of each SLURM job."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        print(job_script(argv[0] if argv else None), end="")
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
