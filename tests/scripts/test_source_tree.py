"""attnsim.source_tree: the check behind "no test writes into the source tree", on a scratch git
repository."""
import subprocess

from attnsim import source_tree


def repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("masks/\n")
    (tmp_path / "kept.txt").write_text("a\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-qm", "x"], check=True)
    return tmp_path


def test_new_changed_and_rewritten_ignored_files_are_found(tmp_path):
    root = repo(tmp_path)
    (root / "masks").mkdir()
    (root / "masks" / "old.npz").write_text("1")
    before = source_tree.snapshot(root)
    assert source_tree.written(before, source_tree.snapshot(root)) == []
    (root / "new.txt").write_text("x")                      # untracked
    (root / "kept.txt").write_text("b\n")                   # a tracked file changed
    (root / "masks" / "new.npz").write_text("2")            # ignored
    old = root / "masks" / "old.npz"
    old.write_text("3")                                     # an ignored file rewritten
    stat = old.stat()
    import os
    os.utime(old, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert source_tree.written(before, source_tree.snapshot(root)) == [
        "kept.txt", "masks/new.npz", "masks/old.npz", "new.txt"]


def test_the_build_folder_and_the_device_staging_area_are_exempt(tmp_path):
    root = repo(tmp_path)
    before = source_tree.snapshot(root)
    for folder in ("build/default", ".devcarry/x", "scripts/__pycache__"):
        (root / folder).mkdir(parents=True)
        (root / folder / "f").write_text("x")
    assert source_tree.written(before, source_tree.snapshot(root)) == []
