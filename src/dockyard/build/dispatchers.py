"""One `dispatch_<instr>` per instruction (moby daemon/builder/dockerfile/dispatchers.go).

Each takes the builder, the stage's state and the instruction with its values already
substituted, and yields build messages; the state holds the result.
"""

from __future__ import annotations

import codecs
import json
import os
import posixpath
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.build import instructions as i
from dockyard.build.cache import cache_key
from dockyard.build.copier import Attributes, LayerCopy
from dockyard.build.imageconfig import child_document, env_map, set_env
from dockyard.build.layertar import LayerWriter
from dockyard.build.messages import PROXY_ARGS, StepFailed, done, out
from dockyard.build.sources import resolve_sources
from dockyard.errors import DockyardError, InvalidArgument
from dockyard.runtime.rootpath import resolve_in_root

if TYPE_CHECKING:
    from dockyard.build.builder import Builder, Messages, StageState

DEFAULT_SHELL = ["/bin/sh", "-c"]


# -- metadata ---------------------------------------------------------------------------


def dispatch_env(b: Builder, state: StageState, instr: i.Env) -> Messages:
    text = "ENV " + " ".join(f"{kv.key}={kv.value}" for kv in instr.env)

    def change(document: dict) -> None:
        for kv in instr.env:
            set_env(document["config"], kv.key, kv.value)

    yield from b.metadata(state, text, change)


def dispatch_label(b: Builder, state: StageState, instr: i.Label) -> Messages:
    text = "LABEL " + " ".join(f"{kv.key}={kv.value}" for kv in instr.labels)

    def change(document: dict) -> None:
        config = document["config"]
        config["Labels"] = {**(config.get("Labels") or {}), **{kv.key: kv.value for kv in instr.labels}}

    yield from b.metadata(state, text, change)


def dispatch_maintainer(b: Builder, state: StageState, instr: i.Maintainer) -> Messages:
    yield from b.metadata(state, f"MAINTAINER {instr.maintainer}", lambda d: d.__setitem__("author", instr.maintainer))


def dispatch_expose(b: Builder, state: StageState, instr: i.Expose) -> Messages:
    ports = [p if "/" in p else f"{p}/tcp" for p in instr.ports]

    def change(document: dict) -> None:
        config = document["config"]
        config["ExposedPorts"] = {**(config.get("ExposedPorts") or {}), **{p: {} for p in ports}}

    yield from b.metadata(state, "EXPOSE " + " ".join(ports), change)


def dispatch_volume(b: Builder, state: StageState, instr: i.Volume) -> Messages:
    if any(not v.strip() for v in instr.volumes):
        raise InvalidArgument("VOLUME specified can not be an empty string")

    def change(document: dict) -> None:
        config = document["config"]
        config["Volumes"] = {**(config.get("Volumes") or {}), **{v: {} for v in instr.volumes}}

    yield from b.metadata(state, "VOLUME " + json.dumps(list(instr.volumes)), change)


def dispatch_user(b: Builder, state: StageState, instr: i.User) -> Messages:
    yield from b.metadata(state, f"USER {instr.user}", lambda d: d["config"].__setitem__("User", instr.user))


def dispatch_stopsignal(b: Builder, state: StageState, instr: i.StopSignal) -> Messages:
    text = f"STOPSIGNAL {instr.signal}"
    yield from b.metadata(state, text, lambda d: d["config"].__setitem__("StopSignal", instr.signal))


def dispatch_shell(b: Builder, state: StageState, instr: i.Shell) -> Messages:
    text = "SHELL " + json.dumps(list(instr.shell))
    yield from b.metadata(state, text, lambda d: d["config"].__setitem__("Shell", list(instr.shell)))


def dispatch_onbuild(b: Builder, state: StageState, instr: i.Onbuild) -> Messages:
    def change(document: dict) -> None:
        config = document["config"]
        config["OnBuild"] = [*(config.get("OnBuild") or []), instr.expression]

    yield from b.metadata(state, f"ONBUILD {instr.expression}", change)


def dispatch_healthcheck(b: Builder, state: StageState, instr: i.Healthcheck) -> Messages:
    check: dict = {"Test": list(instr.test)}
    for key, value in (
        ("Interval", instr.interval),
        ("Timeout", instr.timeout),
        ("StartPeriod", instr.start_period),
        ("StartInterval", instr.start_interval),
        ("Retries", instr.retries),
    ):
        if value:
            check[key] = value
    text = "HEALTHCHECK " + json.dumps(check, sort_keys=True)
    yield from b.metadata(state, text, lambda d: d["config"].__setitem__("Healthcheck", check))


def _argv(state: StageState, command: i.CommandLine) -> list[str]:
    if command.prepend_shell:
        return [*(state.config.get("Shell") or DEFAULT_SHELL), i.shell_script(command)]
    return list(command.args)


def dispatch_cmd(b: Builder, state: StageState, instr: i.Cmd) -> Messages:
    argv = _argv(state, instr.command)
    state.cmd_set = True
    yield from b.metadata(state, "CMD " + json.dumps(argv), lambda d: d["config"].__setitem__("Cmd", argv))


def dispatch_entrypoint(b: Builder, state: StageState, instr: i.Entrypoint) -> Messages:
    argv = _argv(state, instr.command)
    inherited_cmd = not state.cmd_set

    def change(document: dict) -> None:
        document["config"]["Entrypoint"] = argv or None
        if inherited_cmd:  # as docker: an ENTRYPOINT drops the CMD the base image gave
            document["config"]["Cmd"] = None

    yield from b.metadata(state, "ENTRYPOINT " + json.dumps(argv), change)


def dispatch_arg(b: Builder, state: StageState, instr: i.Arg) -> Messages:
    texts = []
    for definition in instr.args:
        default = definition.default
        if default is None and definition.name in b.global_args:
            default = b.global_args[definition.name]
        value = b.arg_value(definition.name, default)
        b.consumed.add(definition.name)
        if value is not None:
            state.args[definition.name] = value
        texts.append(definition.name if definition.default is None else f"{definition.name}={definition.default}")
    yield from b.metadata(state, "ARG " + " ".join(texts), lambda d: None)


# -- filesystem -------------------------------------------------------------------------


def dispatch_workdir(b: Builder, state: StageState, instr: i.Workdir) -> Messages:
    current = state.config.get("WorkingDir") or "/"
    path = posixpath.normpath(posixpath.join(current, instr.path))
    created = b.created()
    key = cache_key(state.image_id or "scratch", "workdir", path)

    def produce() -> Generator[dict, None, str]:  # runs only when the cache misses
        document = child_document(state.document, created, f"/bin/sh -c #(nop) WORKDIR {path}", empty_layer=False)
        document["config"]["WorkingDir"] = path
        made = b.worker.commit(state.image_id, document, lambda root, layer: _mkdir(root, layer, path, b), False)
        if made is None:
            document["history"][-1]["empty_layer"] = True
            made = b.worker.register(state.image_id, document)
        return done(made)

    yield from b.step(state, key, produce)


def _mkdir(rootfs: Path, layer: LayerWriter, path: str, b: Builder) -> None:
    """WORKDIR's directory, in the layer only when the image does not have it yet."""
    if not os.path.isdir(resolve_in_root(str(rootfs), path)):
        LayerCopy(rootfs, layer, Attributes(), b.now()).directory(path)


def dispatch_copy(b: Builder, state: StageState, instr: i.Copy) -> Messages:
    yield from _copy(b, state, "COPY", instr.sources, instr.dest, instr.heredocs, instr.from_, instr.chown, instr.chmod)


def dispatch_add(b: Builder, state: StageState, instr: i.Add) -> Messages:
    yield from _copy(b, state, "ADD", instr.sources, instr.dest, instr.heredocs, "", instr.chown, instr.chmod)


def _copy(b: Builder, state: StageState, what: str, sources, dest, heredocs, from_, chown, chmod) -> Messages:
    try:
        plan = yield from resolve_sources(b, state.index, what, sources, heredocs, from_)
    except DockyardError as exc:
        raise InvalidArgument(f"{what} failed: {exc}") from None
    workdir = state.config.get("WorkingDir") or "/"
    key = cache_key(state.image_id or "scratch", what, plan.checksum, dest, workdir, chown, chmod)
    created_by = f"/bin/sh -c #(nop) {what} {plan.description} in {dest} "
    created = b.created()

    def produce() -> Generator[dict, None, str]:  # runs only when the cache misses
        document = child_document(state.document, created, created_by, empty_layer=False)
        write = plan.applier(dest, workdir, chown, chmod, what, b.now())
        return done(b.worker.commit(state.image_id, document, write, keep_empty=True))

    try:
        yield from b.step(state, key, produce)
    finally:
        plan.close()


# -- RUN --------------------------------------------------------------------------------


def dispatch_run(b: Builder, state: StageState, instr: i.Run) -> Messages:
    if state.image_id is None:
        raise InvalidArgument("RUN needs a shell: this stage has no filesystem yet (FROM scratch)")
    argv = _argv(state, instr.command)
    env = env_map(state.config)
    args = {k: v for k, v in state.args.items() if k not in env}
    proxies = {
        k: v for k, v in b.options.build_args.items() if k in PROXY_ARGS and v is not None and k not in state.args
    }
    shown = " ".join(argv)
    if args:
        shown = f"|{len(args)} " + " ".join(f"{k}={v}" for k, v in sorted(args.items())) + " " + shown
    key = cache_key(state.image_id, "run", shown)
    network = {"default": b.options.network_mode, "none": "none", "host": "host"}[instr.network]
    config = {
        "Image": state.image_id,
        "Cmd": argv,
        "Entrypoint": [""],
        "Env": [*(state.config.get("Env") or []), *(f"{k}={v}" for k, v in {**args, **proxies}.items())],
        "User": state.config.get("User") or "",
        "WorkingDir": state.config.get("WorkingDir") or "",
        "Labels": {},
    }
    host_config = {**b.options.host_config, "NetworkMode": network}
    created = b.created()
    script = _script(instr.command)

    def produce() -> Generator[dict, None, str]:
        document = child_document(state.document, created, shown, empty_layer=False)
        if script is None:
            return (yield from _run_container(b, state.image_id, config, host_config, document, argv))
        with _script_file(b.scratch_dir, script.data) as path:
            target = f"/dev/pipes/{script.name}"
            binds = [*host_config.get("Binds", []), f"{path}:{target}:ro"]
            run_config = {**config, "Cmd": [target]}
            return (
                yield from _run_container(
                    b, state.image_id, run_config, {**host_config, "Binds": binds}, document, argv
                )
            )

    yield from b.step(state, key, produce)


def _script(command: i.CommandLine) -> i.Heredoc | None:
    """A lone `RUN <<EOF` whose body starts with `#!`: buildkit runs it as an executable file."""
    lone = i.lone_heredoc(command)
    return lone if lone is not None and lone.data.startswith("#!") else None


@contextmanager
def _script_file(directory: Path, text: str) -> Iterator[str]:
    """The script in a file for the RUN's container to see, read-only, at /dev/pipes/<name>
    (a tmpfs there: nothing of it reaches the layer)."""
    fd, path = tempfile.mkstemp(prefix="build-script-", dir=directory)
    try:
        os.write(fd, text.encode())
        os.fchmod(fd, 0o755)
        os.close(fd)
        yield path
    finally:
        os.unlink(path)


def _run_container(b: Builder, parent: str, config: dict, host_config: dict, document: dict, argv: list[str]):
    run = b.worker.run(parent, config, host_config)
    container_id = str(next(run))
    b.running.add(container_id)
    yield out(f" ---> Running in {container_id[:12]}\n")
    succeeded = False
    decoders = {1: _decoder(), 2: _decoder()}  # a character may span two reads
    try:
        try:
            while True:
                stream, data = next(run)
                text = decoders[stream].decode(data)
                if text:
                    yield out(f"\x1b[91m{text}\x1b[0m" if stream == 2 else text)
        except StopIteration as stop:
            code = stop.value
        if code != 0:
            raise StepFailed(f"The command '{' '.join(argv)}' returned a non-zero code: {code}", code)
        image_id = b.worker.commit_container(container_id, document)
        succeeded = True
    except GeneratorExit:  # the client went away: nothing of this step stays behind
        b.worker.remove_container(container_id)
        raise
    finally:
        b.running.discard(container_id)
        if (succeeded and b.options.remove) or (not succeeded and b.options.force_remove):
            b.worker.remove_container(container_id)
    if b.options.remove:
        yield out(f"Removing intermediate container {container_id[:12]}\n")
    return image_id


def _decoder() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")(errors="replace")
