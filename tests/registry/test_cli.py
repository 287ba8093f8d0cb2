"""`dockyard registry serve|gc` entry points and the TOML config file."""

from __future__ import annotations

import json
import os
import time

import pytest

from dockyard.errors import InvalidArgument
from dockyard.registry import main
from dockyard.registry.config import load_config
from tests.registry.registry_support import push_image


def test_gc_verb_reports_json(registry, client, capsys):
    push_image(client, "cli/img", "v1")
    orphan = client.push_blob("cli/img", b"orphan")
    old = time.time() - 7200
    os.utime(registry.storage / "blobs/sha256" / orphan[7:], (old, old))
    assert main(["gc", "--storage", str(registry.storage), "--dry-run"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["deleted_blobs"] == [orphan] and report["marked"] == 3
    assert (registry.storage / "blobs/sha256" / orphan[7:]).exists()
    assert main(["gc", "--storage", str(registry.storage)]) == 0
    assert not (registry.storage / "blobs/sha256" / orphan[7:]).exists()
    assert main(["gc", "--storage", str(registry.storage / "typo")]) == 1
    assert not (registry.storage / "typo").exists()


def test_serve_verb_refuses_bad_address_and_config(tmp_path, capsys):
    assert main(["serve", "--addr", "nowhere", "--storage", str(tmp_path / "s")]) == 1
    assert "invalid address" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[auth]\nanonymous = 'sometimes'\n")
    assert main(["serve", "--addr", "127.0.0.1:0", "--storage", str(tmp_path / "s"), "--config", str(bad)]) == 1
    assert "auth.anonymous" in capsys.readouterr().err


def test_toml_config_file(tmp_path):
    path = tmp_path / "registry.toml"
    path.write_text(
        "[http]\nread_timeout = 5\n[storage]\nmax_upload_size = 1024\n"
        '[auth]\nanonymous = "read-only"\n[proxy]\nremote_url = "http://127.0.0.1:1"\ntag_ttl = 10\n'
    )
    config = load_config(path)
    assert (config.read_timeout, config.max_upload_size, config.anonymous) == (5, 1024, "read-only")
    assert (config.proxy_remote_url, config.proxy_tag_ttl) == ("http://127.0.0.1:1", 10)
    path.write_text("[http\n")
    with pytest.raises(InvalidArgument, match="invalid config"):
        load_config(path)
    with pytest.raises(InvalidArgument, match="cannot read config"):
        load_config(tmp_path / "missing.toml")
