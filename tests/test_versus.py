"""The interleaved comparison with the PyTorch peers: order of the runs and the arithmetic of its ratios."""

import pytest

from lenet_keras import versus


def test_rounds_interleave_and_ratios_are_per_pair(monkeypatch, tmp_path):
    fake = {"ours_1": [10, 12, 11], "original_1": [8, 8, 10], "ours_5": [18, 20, 19], "strong_1": [5, 6, 5],
            "strong_5": [17, 18, 17]}  # fmt: skip
    order = []

    def fake_seconds(command):
        name = command[0]
        order.append(name)
        return fake[name][order.count(name) - 1]

    monkeypatch.setattr(versus, "commands", lambda *args: {name: [name] for name in fake})
    monkeypatch.setattr(versus, "run_seconds", fake_seconds)
    result = versus.compare("peer-python", tmp_path, pairs=3, log=lambda line: None)
    assert order == list(fake) * 3  # A B A B ...: every round runs each process once, in the same order
    assert result["one_epoch_run_ratio_vs_original"] == [1.25, 1.5, 1.1]
    assert result["median_one_epoch_run_ratio_vs_original"] == 1.25
    assert result["marginal_epoch_seconds"] == {"ours": [2.0, 2.0, 2.0], "strong_peer": [3.0, 3.0, 3.0]}
    assert result["median_marginal_epoch_ratio_vs_strong_peer"] == pytest.approx(0.667, abs=1e-3)
    assert result["steady_images_per_second"] == {"ours": 27500, "strong_peer": 18333}  # 55,000 images
    assert result["fixed_cost_seconds"] == {"ours": [8.0, 10.0, 9.0], "strong_peer": [2.0, 3.0, 2.0]}


def test_a_failing_peer_stops_with_one_sentence(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("import sys; print('no torch here', file=sys.stderr); sys.exit(3)")
    with pytest.raises(ValueError, match="failed \\(no torch here\\)"):
        versus.run_seconds(["python3", str(script)])


def test_peers_are_the_projects_own_by_default(tmp_path):
    runs = versus.commands("peer-python", None, tmp_path)
    assert runs["original_1"][1] == str(versus.PEERS_DIR / "peer_seed_torch.py")
    assert runs["strong_5"][1] == str(versus.PEERS_DIR / "peer_torch_fast.py")
    assert all(path.is_file() for path in (versus.PEERS_DIR / name for name in versus.PEERS))


def test_a_folder_without_the_peers_stops_with_one_sentence(tmp_path):
    with pytest.raises(ValueError, match=r"peer_seed_torch\.py: no such peer script; pass --bench-dir"):
        versus.commands("peer-python", tmp_path, tmp_path)
