"""Tests for the datasets package: the five routes, verification, the loaders and the d2l 3.5 helpers."""

import functools
import gzip
import hashlib
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import datasets
from datasets import fashion_mnist, routes, vision
from datasets.__main__ import main

REPO = Path(__file__).resolve().parents[1]
NAMES = list(routes.RAW_MD5)
APT_INSTALL = ["apt-get", "install", "-y", "dataset-fashion-mnist"]
ROUTE_ORDER = [routes.ENV_ROUTE, routes.CACHE_ROUTE, routes.SYSTEM_ROUTE,
               routes.DOWNLOAD_ROUTE, routes.APT_ROUTE]


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class Tiny:
    """Four small IDX files with the Fashion-MNIST names, and checksum tables for them."""

    def __init__(self):
        rng = random.Random(0)
        self.raw = {}
        for name in NAMES:
            n = 20 if name.startswith("train") else 10
            if "images" in name:
                self.raw[name] = struct.pack(">IIII", 0x803, n, 28, 28) + rng.randbytes(n * 784)
            else:
                self.raw[name] = struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n))
        self.raw_md5s = {name: _md5(data) for name, data in self.raw.items()}
        self.archive_md5s = {name + ".gz": _md5(gzip.compress(data, mtime=0))
                             for name, data in self.raw.items()}

    def put(self, folder, compressed=True, **override):
        """Write the four files (gzipped unless told otherwise); override maps a name to bytes."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.raw.items():
            target = folder / (name + ".gz" if compressed else name)
            if name in override:
                target.write_bytes(override[name])
            else:
                target.write_bytes(gzip.compress(data, mtime=0) if compressed else data)
        return folder


def _forbidden_runner(cmd):
    raise AssertionError(f"apt must not run here: {cmd}")


@pytest.fixture
def tiny():
    return Tiny()


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Empty per-test locations for every route; no proxies, no root, no record."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY", "FASHION_MNIST_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(routes, "running_as_root", lambda: False)
    monkeypatch.setattr(routes, "_RECORD", {})
    return SimpleNamespace(cache=tmp_path / "cache", env=tmp_path / "env",
                           system=tmp_path / "system")


def _find(tiny, places, **kwargs):
    args = dict(env_dir=None, system_dir=places.system, mirrors=[], raw_md5s=tiny.raw_md5s,
                archive_md5s=tiny.archive_md5s, apt_runner=_forbidden_runner)
    args.update(kwargs)
    return routes.find_fashion_mnist(places.cache, **args)


def _cache_md5s(places):
    folder = routes.raw_dir(places.cache)
    return {p.name: _md5(p.read_bytes()) for p in folder.iterdir()} if folder.is_dir() else {}


@pytest.fixture
def http_dir(tmp_path):
    """A loopback HTTP server in a thread serving tmp_path/www; records requested paths."""
    root = tmp_path / "www"
    root.mkdir()
    hits = []

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            hits.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield SimpleNamespace(root=root, url=f"http://127.0.0.1:{server.server_address[1]}/", hits=hits)
    server.shutdown()
    server.server_close()
    thread.join(5)


def _closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _fake_apt(tiny, system_dir, failing_installs=0):
    calls = []

    def runner(cmd):
        calls.append(list(cmd))
        if cmd[:2] == ["apt-get", "update"]:
            return 0
        if sum(c[:2] == ["apt-get", "install"] for c in calls) <= failing_installs:
            return 100
        tiny.put(system_dir)
        return 0

    return runner, calls


def _as_root_on_debian(monkeypatch):
    monkeypatch.setattr(routes, "running_as_root", lambda: True)
    monkeypatch.setattr(routes, "debian_like", lambda *a: True)
    monkeypatch.setattr(routes, "apt_get_available", lambda: True)


# Routes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("first", range(5), ids=ROUTE_ORDER)
def test_first_available_route_wins(tiny, places, http_dir, monkeypatch, first):
    _as_root_on_debian(monkeypatch)
    runner, apt_calls = _fake_apt(tiny, places.system)
    available = ROUTE_ORDER[first:]
    if routes.ENV_ROUTE in available:
        tiny.put(places.env)
    if routes.CACHE_ROUTE in available:
        tiny.put(routes.raw_dir(places.cache), compressed=False)
    if routes.SYSTEM_ROUTE in available:
        tiny.put(places.system)
    if routes.DOWNLOAD_ROUTE in available:
        tiny.put(http_dir.root)
    found = _find(tiny, places, env_dir=places.env, mirrors=[http_dir.url], apt_runner=runner)
    assert found.route == ROUTE_ORDER[first]
    assert len(found.tried) == first
    assert bool(http_dir.hits) == (first >= 3)  # later routes are never consulted
    assert bool(apt_calls) == (first == 4)
    assert _cache_md5s(places) == tiny.raw_md5s


@pytest.mark.parametrize("route", ROUTE_ORDER)
def test_each_route_alone_is_found_and_fills_the_cache(tiny, places, http_dir, monkeypatch, route):
    runner, _ = _fake_apt(tiny, places.system)
    if route == routes.ENV_ROUTE:
        tiny.put(places.env)
    elif route == routes.CACHE_ROUTE:
        tiny.put(routes.raw_dir(places.cache), compressed=False)
    elif route == routes.SYSTEM_ROUTE:
        tiny.put(places.system)
    elif route == routes.DOWNLOAD_ROUTE:
        tiny.put(http_dir.root)
    else:
        _as_root_on_debian(monkeypatch)
    kwargs = dict(env_dir=places.env, mirrors=[http_dir.url], apt_runner=runner)
    found = _find(tiny, places, **kwargs)
    assert found.route == route and found.root == places.cache
    mnist = vision.torchvision().datasets.FashionMNIST(root=found.root, train=True)
    assert mnist.data.shape == (20, 28, 28)
    assert bytes(mnist.data.flatten().tolist()) == tiny.raw["train-images-idx3-ubyte"][16:]
    kwargs["env_dir"] = None  # a set and valid $FASHION_MNIST_DIR would still come first
    assert _find(tiny, places, **kwargs).route == routes.CACHE_ROUTE


def test_recompressed_and_uncompressed_files_are_accepted(tiny, places):
    recompressed = {name: gzip.compress(data, compresslevel=1, mtime=12345)
                    for name, data in tiny.raw.items()}
    assert all(_md5(recompressed[n]) != tiny.archive_md5s[n + ".gz"] for n in NAMES)
    tiny.put(places.env, **recompressed)
    assert _find(tiny, places, env_dir=places.env).route == routes.ENV_ROUTE
    raw_only = tiny.put(places.system, compressed=False)
    found = routes.find_fashion_mnist(places.cache.with_name("cache2"), system_dir=raw_only,
                                      mirrors=[], raw_md5s=tiny.raw_md5s,
                                      archive_md5s=tiny.archive_md5s)
    assert found.route == routes.SYSTEM_ROUTE


def test_checksum_mismatch_is_reported_by_name_and_never_used(tiny, places):
    bad_name = "train-labels-idx1-ubyte"
    tampered = bytearray(tiny.raw[bad_name])
    tampered[-1] ^= 1
    tiny.put(places.env, **{bad_name: gzip.compress(bytes(tampered))})
    tiny.put(places.system)
    found = _find(tiny, places, env_dir=places.env)
    assert found.route == routes.SYSTEM_ROUTE
    assert len(found.tried) == 2  # the rejected env dir, then the empty cache
    assert bad_name + ".gz: checksum mismatch" in found.tried[0]
    assert str(places.env / (bad_name + ".gz")) in found.tried[0]
    assert _cache_md5s(places) == tiny.raw_md5s


def test_truncated_gz_is_reported_and_nothing_is_cached(tiny, places):
    bad_name = "train-images-idx3-ubyte"
    whole = gzip.compress(tiny.raw[bad_name], mtime=0)
    tiny.put(places.env, **{bad_name: whole[: len(whole) // 2]})
    with pytest.raises(routes.DatasetUnavailable) as info:
        _find(tiny, places, env_dir=places.env)
    message = str(info.value)
    assert f"{bad_name}.gz: corrupt or truncated gzip" in message
    assert str(places.env / (bad_name + ".gz")) in message
    assert _cache_md5s(places) == {}


def test_tampered_cache_file_is_rejected_and_replaced(tiny, places):
    tiny.put(routes.raw_dir(places.cache), compressed=False,
             **{"t10k-labels-idx1-ubyte": b"\x00\x00\x08\x01\x00\x00\x00\x00"})
    tiny.put(places.system)
    found = _find(tiny, places)
    assert found.route == routes.SYSTEM_ROUTE
    assert any("t10k-labels-idx1-ubyte: checksum mismatch" in line for line in found.tried)
    assert _cache_md5s(places) == tiny.raw_md5s


@pytest.mark.parametrize("debian, root, fix", [
    (True, False, "sudo apt-get install -y dataset-fashion-mnist"),
    (True, True, "\n  apt-get install -y dataset-fashion-mnist"),
    (False, False, "FASHION_MNIST_DIR=/path/to/files make data"),
])
def test_all_routes_failed_lists_each_route_and_one_fix(tiny, places, monkeypatch, debian, root,
                                                        fix):
    monkeypatch.setattr(routes, "debian_like", lambda *a: debian)
    monkeypatch.setattr(routes, "running_as_root", lambda: root)
    monkeypatch.setattr(routes, "apt_get_available", lambda: debian)
    runner, calls = _fake_apt(tiny, places.system, failing_installs=9)
    places.env.mkdir()
    with pytest.raises(routes.DatasetUnavailable) as info:
        _find(tiny, places, env_dir=places.env, mirrors=[_closed_port_url()], apt_runner=runner)
    lines = str(info.value).splitlines()
    tried = [line for line in lines if line.startswith("  - ")]
    assert [t.split(" (")[0].split(":")[0][4:] for t in tried] == ROUTE_ORDER
    assert "no Fashion-MNIST files" in tried[0] and "Connection refused" in tried[3]
    assert fix in str(info.value)
    if debian and root:
        assert calls == [APT_INSTALL, ["apt-get", "update"], APT_INSTALL]
        assert "failed (exit 100)" in tried[4]
    else:
        assert calls == [] and "skipped" in tried[4]
    if not debian:
        assert "https://github.com/zalandoresearch/fashion-mnist" in str(info.value)


def test_download_from_local_mirror(tiny, places, http_dir):
    tiny.put(http_dir.root)
    dead = _closed_port_url()
    found = _find(tiny, places, mirrors=[dead, http_dir.url])
    assert found.route == routes.DOWNLOAD_ROUTE and found.source == http_dir.url
    assert any(dead in line for line in found.tried)
    assert sorted(http_dir.hits) == sorted(f"/{name}.gz" for name in NAMES)
    assert _cache_md5s(places) == tiny.raw_md5s
    assert not list((places.cache / "FashionMNIST").glob(".staging-*"))


def test_download_refused_fails_fast_and_uses_short_timeout(tiny, places, monkeypatch):
    seen = []
    real_fetch = routes.fetch

    def spy(url, dest, timeout):
        seen.append(timeout)
        return real_fetch(url, dest, timeout)

    monkeypatch.setattr(routes, "fetch", spy)
    start = time.monotonic()
    with pytest.raises(routes.DatasetUnavailable, match="Connection refused"):
        _find(tiny, places, mirrors=[_closed_port_url()])
    assert time.monotonic() - start < 3
    assert seen == [routes.DOWNLOAD_TIMEOUT] and routes.DOWNLOAD_TIMEOUT <= 10


def test_download_from_silent_server_times_out(tiny, places):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        start = time.monotonic()
        with pytest.raises(routes.DatasetUnavailable, match="timed out after 0.3 s"):
            _find(tiny, places, mirrors=[url], timeout=0.3)
        assert time.monotonic() - start < 3


def test_apt_route_retries_after_update(tiny, places, monkeypatch):
    _as_root_on_debian(monkeypatch)
    runner, calls = _fake_apt(tiny, places.system, failing_installs=1)
    found = _find(tiny, places, apt_runner=runner)
    assert found.route == routes.APT_ROUTE
    assert calls == [APT_INSTALL, ["apt-get", "update"], APT_INSTALL]
    assert _cache_md5s(places) == tiny.raw_md5s


@pytest.mark.parametrize("root, debian, reason", [
    (False, True, "not running as root"),
    (True, False, "not Debian/Ubuntu"),
])
def test_apt_route_skipped_with_reason(tiny, places, monkeypatch, root, debian, reason):
    monkeypatch.setattr(routes, "running_as_root", lambda: root)
    monkeypatch.setattr(routes, "debian_like", lambda *a: debian)
    monkeypatch.setattr(routes, "apt_get_available", lambda: True)
    with pytest.raises(routes.DatasetUnavailable) as info:
        _find(tiny, places)
    assert f"apt-get install (dataset-fashion-mnist): skipped ({reason})" in str(info.value)


def test_debian_detection_reads_id_and_id_like(tmp_path):
    release = tmp_path / "os-release"
    release.write_text('NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n')
    assert routes.debian_like(release)
    release.write_text('ID="fedora"\nID_LIKE="rhel centos"\n')
    assert not routes.debian_like(release)
    assert not routes.debian_like(tmp_path / "missing")


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("D2L_KIT_CACHE", str(tmp_path / "kit"))
    assert routes.cache_dir() == tmp_path / "kit"
    monkeypatch.delenv("D2L_KIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert routes.cache_dir() == tmp_path / "xdg" / "d2l-linear-kit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert routes.cache_dir() == tmp_path / "home" / ".cache" / "d2l-linear-kit"


def test_locate_remembers_its_answer(tiny, places, monkeypatch):
    monkeypatch.setenv("D2L_KIT_CACHE", str(places.cache))
    tiny.put(routes.raw_dir(places.cache), compressed=False)
    calls = []

    def fake_find(cache, env_dir=None, **kwargs):
        calls.append(cache)
        return routes.Found(cache, routes.CACHE_ROUTE, "")

    monkeypatch.setattr(routes, "find_fashion_mnist", fake_find)
    assert datasets.locate_fashion_mnist() == places.cache
    assert datasets.locate_fashion_mnist() == places.cache
    assert len(calls) == 1
    (routes.raw_dir(places.cache) / NAMES[0]).unlink()
    datasets.locate_fashion_mnist()
    assert len(calls) == 2


# python -m datasets ---------------------------------------------------------------------------


def test_main_check_reports_without_installing_then_make_data_installs(tiny, places, monkeypatch,
                                                                       capsys):
    monkeypatch.setenv("D2L_KIT_CACHE", str(places.cache))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny.put(places.env)))
    monkeypatch.setattr(routes, "find_fashion_mnist", functools.partial(
        routes.find_fashion_mnist, system_dir=places.system, mirrors=[],
        raw_md5s=tiny.raw_md5s, archive_md5s=tiny.archive_md5s))
    assert main(["--check"]) == 0
    assert "not yet in" in capsys.readouterr().out and _cache_md5s(places) == {}
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out == f"Fashion-MNIST ready: {places.cache} (found via $FASHION_MNIST_DIR {places.env})\n"
    monkeypatch.setattr(routes, "_RECORD", {})
    monkeypatch.delenv("FASHION_MNIST_DIR")
    assert main([]) == 0
    assert "(found via kit cache" in capsys.readouterr().out


def test_main_prints_the_fix_and_exits_1_when_unavailable(tiny, places, monkeypatch, capsys):
    monkeypatch.setenv("D2L_KIT_CACHE", str(places.cache))
    monkeypatch.setattr(routes, "SYSTEM_DIR", places.system)
    monkeypatch.setattr(routes, "MIRRORS", [_closed_port_url()])
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Fashion-MNIST is not available.") and "Fix it with:" in err
    assert main(["--check"]) == 1
    assert "download: skipped (downloads disabled)" in capsys.readouterr().err


def test_make_data_says_why_and_how_to_fix_it_in_the_student_s_language(tiny, places, monkeypatch, capsys):
    monkeypatch.setenv("D2L_KIT_CACHE", str(places.cache))
    monkeypatch.setenv("D2L_KIT_LANG", "zh")
    monkeypatch.setattr(routes, "SYSTEM_DIR", places.system)
    assert main(["--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("无法使用Fashion-MNIST。尝试过的途径：\n") and "\n解决办法：\n" in err, err
    assert "download: skipped (downloads disabled)" in err   # the routes' own reasons, as they are
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny.put(places.env)))
    monkeypatch.setattr(routes, "_RECORD", {})
    monkeypatch.setattr(routes, "find_fashion_mnist", functools.partial(
        routes.find_fashion_mnist, system_dir=places.system, mirrors=[],
        raw_md5s=tiny.raw_md5s, archive_md5s=tiny.archive_md5s))
    assert main([]) == 0
    ready = f"Fashion-MNIST已就绪：{places.cache}（通过$FASHION_MNIST_DIR {places.env}找到）\n"
    assert capsys.readouterr().out == ready


def test_torchvision_mismatch_is_one_sentence_without_traceback(tmp_path):
    fake = tmp_path / "torchvision"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        'raise RuntimeError("operator torchvision::nms does not exist")\n')
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "datasets", "--check"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    message = proc.stderr.strip()
    assert message.startswith("torchvision ") and torch.__version__ in message
    assert "operator torchvision::nms does not exist" in message
    assert "rm -rf .venv && make test" in message and message.count("\n") == 0
    proc = subprocess.run([sys.executable, "-m", "datasets", "--check"], cwd=REPO, env={**env, "D2L_KIT_LANG": "zh"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "无法与torch" in proc.stderr and "operator torchvision::nms" in proc.stderr


# Fast path, helpers ---------------------------------------------------------------------------


def test_tensor_batches_cover_every_example_once_per_pass():
    X, y = torch.arange(103).float().reshape(103, 1), torch.arange(103)
    train = fashion_mnist.TensorBatches(X, y, 10, shuffle=True, seed=3)
    assert len(train) == 11 and train.num_examples == 103
    passes = []
    for _ in range(2):
        batches = list(train)
        assert [len(b[1]) for b in batches] == [10] * 10 + [3]
        assert all(torch.equal(bx[:, 0].long(), by) for bx, by in batches)
        order = torch.cat([by for _, by in batches])
        assert sorted(order.tolist()) == list(range(103))
        passes.append(order)
    assert not torch.equal(passes[0], passes[1])
    again = fashion_mnist.TensorBatches(X, y, 10, shuffle=True, seed=3)
    assert all(torch.equal(torch.cat([by for _, by in again]), p) for p in passes)
    test = fashion_mnist.TensorBatches(X, y, 10)
    assert torch.equal(torch.cat([by for _, by in test]), y)


@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-5, ValueError),
                                               (2.5, TypeError), (True, TypeError)])
def test_tensor_batches_reject_bad_batch_size(batch_size, error):
    with pytest.raises(error, match="batch_size must be a positive int"):
        fashion_mnist.TensorBatches(torch.zeros(4, 1), torch.zeros(4), batch_size)
    with pytest.raises(error, match="batch_size must be a positive int"):
        datasets.load_data_fashion_mnist_fast(batch_size)


def test_tensor_batches_reject_mismatched_lengths():
    with pytest.raises(ValueError, match="X has 4 examples but y has 3"):
        fashion_mnist.TensorBatches(torch.zeros(4, 1), torch.zeros(3), 2)


def test_tensors_match_totensor_on_tiny_idx_files(tiny, places, monkeypatch):
    found = _find(tiny, places, system_dir=tiny.put(places.system))
    monkeypatch.setattr(fashion_mnist, "locate_fashion_mnist", lambda: found.root)
    X_train, y_train, X_test, y_test = datasets.fashion_mnist_tensors()
    assert X_train.shape == (20, 1, 28, 28) and X_test.shape == (10, 1, 28, 28)
    assert X_train.dtype == torch.float32 and y_train.dtype == torch.int64
    pixels = torch.tensor(list(tiny.raw["train-images-idx3-ubyte"][16:]), dtype=torch.uint8)
    assert torch.equal(X_train.flatten(), pixels.float() / 255)
    assert y_test.tolist() == list(range(10))
    X_train.zero_()
    assert datasets.fashion_mnist_tensors()[0].sum() > 0


def test_text_labels():
    assert datasets.get_fashion_mnist_labels(torch.tensor([0, 9, 3])) == [
        "t-shirt", "ankle boot", "dress"]
    with pytest.raises(ValueError, match="labels are 0..9"):
        datasets.get_fashion_mnist_labels([10])


def test_show_images_headless():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    imgs = torch.rand(6, 1, 28, 28)
    axes = datasets.show_images(imgs, 2, 3, titles=list("abcdef"))
    try:
        assert len(axes) == 6 and [ax.get_title() for ax in axes] == list("abcdef")
        assert axes[0].images[0].get_array().shape == (28, 28)
    finally:
        plt.close("all")


# Real Fashion-MNIST ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_root():
    try:
        return datasets.locate_fashion_mnist()
    except datasets.DatasetUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.mark.data
def test_real_tensors_have_the_book_shapes_and_balance(real_root):
    X_train, y_train, X_test, y_test = datasets.fashion_mnist_tensors()
    assert X_train.shape == (60000, 1, 28, 28) and X_test.shape == (10000, 1, 28, 28)
    assert X_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert X_train.min() >= 0 and X_train.max() <= 1 and X_train.max() == 1
    assert torch.bincount(y_train).tolist() == [6000] * 10
    assert torch.bincount(y_test).tolist() == [1000] * 10
    tv = vision.torchvision()
    book = tv.datasets.FashionMNIST(root=real_root, train=False,
                                    transform=tv.transforms.ToTensor())
    for i in (0, 1234, 9999):
        img, label = book[i]
        assert torch.equal(img, X_test[i]) and label == y_test[i]


@pytest.mark.data
def test_real_fast_iterator_passes(real_root):
    train_iter, test_iter = datasets.load_data_fashion_mnist_fast(256, seed=7)
    X_train, _y_train = train_iter.X, train_iter.y
    assert train_iter.num_examples == 60000 and len(train_iter) == 235 and len(test_iter) == 40
    probe = torch.randn(784, dtype=torch.float64)
    fingerprint = lambda X: torch.sort(X.flatten(1).double() @ probe).values  # noqa: E731
    orders = []
    for _ in range(2):
        batches = list(train_iter)
        assert len(batches) == 235 and batches[-1][0].shape == (60000 - 234 * 256, 1, 28, 28)
        X = torch.cat([bx for bx, _ in batches])
        assert torch.equal(fingerprint(X), fingerprint(X_train))
        assert torch.bincount(torch.cat([by for _, by in batches])).tolist() == [6000] * 10
        orders.append(torch.cat([by for _, by in batches]))
    assert not torch.equal(orders[0], orders[1])
    same_seed, _ = datasets.load_data_fashion_mnist_fast(256, seed=7)
    assert torch.equal(torch.cat([by for _, by in same_seed]), orders[0])
    assert torch.equal(torch.cat([by for _, by in test_iter]), test_iter.y)


@pytest.mark.data
@pytest.mark.filterwarnings("ignore:This DataLoader will create")
@pytest.mark.parametrize("resize, side", [(None, 28), (64, 64)])
def test_real_book_loader_first_batch(real_root, resize, side):
    train_iter, test_iter = datasets.load_data_fashion_mnist(256, resize=resize)
    assert train_iter.num_workers == datasets.get_dataloader_workers() == 4
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, side, side) and X.dtype == torch.float32
    assert y.shape == (256,) and y.dtype == torch.int64
    assert len(test_iter.dataset) == 10000
