"""The benchmark runner end to end on one tiny workload, and its PNG writer."""

import json
import os
import struct
import subprocess
import sys
import zlib

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


def test_runner_writes_table_json_and_png(tmp_path):
    out_json, out_png = tmp_path / "out.json", tmp_path / "out.png"
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(BENCHMARKS, "run.py"),
            "--workloads",
            "call_xy1_vec8",
            "--backends",
            "reference",
            "--no-jax",
            "--budget",
            "0.01",
            "--import-runs",
            "1",
            "--json",
            str(out_json),
            "--png",
            str(out_png),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "call_xy1_vec8" in proc.stdout and "import plax" in proc.stdout
    data = json.loads(out_json.read_text())
    rows = {row["library"]: row for row in data["rows"]}
    assert set(rows) == {"plax:reference", "numpy"}
    plax_row = rows["plax:reference"]
    assert plax_row["jit_s"] > 0 and plax_row["eager_s"] > 0 and plax_row["error"] is None
    assert plax_row["checksum_ok"] is True
    assert plax_row["first_cold_s"] > 0 and plax_row["first_warm_s"] > 0
    assert plax_row["ratio_vs_numpy"] > 0
    assert data["imports"]["plax"]["import_s"] > 0
    assert out_png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_png_writer_produces_a_decodable_image(tmp_path):
    sys.path.insert(0, BENCHMARKS)
    try:
        from pngchart import bar_chart
    finally:
        sys.path.remove(BENCHMARKS)
    path = tmp_path / "chart.png"
    bar_chart(
        str(path), ["a_1", "b_2"], {"x": [0.5, None], "y": [2.0, 30.0]}, [1.2, None], title="test"
    )
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat_len = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    raw = zlib.decompress(data[41 : 41 + idat_len])
    assert len(raw) == height * (1 + 3 * width)
    assert data.endswith(b"IEND\xaeB`\x82")
