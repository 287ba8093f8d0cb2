"""The builder: a parsed Dockerfile, its context and a Worker in, docker's build messages out.

    Builder(worker, cache, context, dockerfile, options).build() -> Iterator[dict]

It plans the stages the target needs (others are skipped) and builds each on its own
thread once the stages it needs are done (stagerunner.py), printing them in order; a stage
walks its instructions, one `dispatch_<instr>` each (dispatchers.py, as moby's dispatchers.go).
Every step is looked up in the cache first; a miss runs it through the worker and records
the image it made. Messages are the classic builder's: `Step 2/7 : RUN ...`,
` ---> Using cache`, ` ---> <id>`, `{"aux": {"ID": ...}}` after each stage,
`Successfully built <id>`, `Successfully tagged <name>`; a failure ends the stream with an
`errorDetail` line, and nothing is tagged.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.build import dispatchers
from dockyard.build.cache import BuildCache, cache_key
from dockyard.build.context import BuildContext
from dockyard.build.imageconfig import child_document, clear_onbuild, env_map, scratch_document, timestamp
from dockyard.build.instructions import Copy, Dockerfile, Instruction, Label, Stage, parse_trigger
from dockyard.build.instructions.commands import KeyValue
from dockyard.build.messages import PROXY_ARGS, StepFailed, done, out
from dockyard.build.stagerunner import StageRunner
from dockyard.build.substitute import substitute, substitute_from
from dockyard.build.worker import Worker
from dockyard.errors import DockyardError, InvalidArgument

Messages = Generator[dict, None, None]


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """POST /build's options, decoded."""

    dockerfile: str = "Dockerfile"
    tags: tuple[str, ...] = ()
    build_args: Mapping[str, str | None] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    no_cache: bool = False
    pull: bool = False
    quiet: bool = False
    target: str = ""
    network_mode: str = "bridge"
    platform: str = ""
    remove: bool = True
    force_remove: bool = False
    source_date_epoch: int | None = None
    host_config: Mapping[str, object] = field(default_factory=dict)  # resources of RUN containers
    cancelled: Callable[[], bool] = lambda: False  # the client went away


@dataclass(slots=True)
class StageState:
    """Where a stage stands: its current image and config, and the ARGs in scope."""

    index: int
    name: str
    image_id: str | None
    document: dict
    args: dict[str, str] = field(default_factory=dict)
    cmd_set: bool = False

    @property
    def config(self) -> dict:
        return self.document.setdefault("config", {})

    def env(self) -> dict[str, str]:
        """What substitution sees: the ARGs in scope, then ENV on top."""
        return {**self.args, **env_map(self.config)}


def stage_dependencies(dockerfile: Dockerfile, bases: list[str]) -> dict[int, set[int]]:
    """For each stage, the earlier stages it builds on (FROM a stage) or copies from (COPY --from)."""
    names = {stage.name.lower(): i for i, stage in enumerate(dockerfile.stages) if stage.name}
    dependencies: dict[int, set[int]] = {}
    for index, stage in enumerate(dockerfile.stages):
        refs = [bases[index]] + [i.from_ for i in stage.instructions if isinstance(i, Copy) and i.from_]
        found = (names.get(ref.lower(), int(ref) if ref.isdigit() else None) for ref in refs)
        dependencies[index] = {f for f in found if f is not None and f < index}
    return dependencies


def needed_stages(dockerfile: Dockerfile, target: str, bases: list[str]) -> list[int]:
    """Indexes of the stages the target depends on, in order. Raises InvalidArgument for an
    unknown target."""
    names = {stage.name.lower(): i for i, stage in enumerate(dockerfile.stages) if stage.name}
    last = len(dockerfile.stages) - 1
    if target:
        if target.lower() not in names:
            raise InvalidArgument(f"failed to reach build target {target} in Dockerfile")
        last = names[target.lower()]
    dependencies = stage_dependencies(dockerfile, bases)
    wanted, todo = set(), [last]
    while todo:
        index = todo.pop()
        if index not in wanted:
            wanted.add(index)
            todo.extend(dependencies[index])
    return sorted(wanted)


class Builder:
    """One build: see the module docstring."""

    def __init__(
        self,
        worker: Worker,
        cache: BuildCache,
        context: BuildContext,
        dockerfile: Dockerfile,
        options: BuildOptions,
        scratch_dir: Path,
    ) -> None:
        self.worker, self.cache, self.context = worker, cache, context
        self.scratch_dir = scratch_dir  # for ADD's downloads
        self.dockerfile, self.options = dockerfile, options
        self.stages: dict[int, StageState] = {}
        self.consumed: set[str] = set()
        self.global_args = self._global_args()
        self._first_step: dict[int, int] = {}
        self._total = 0
        self.running: set[str] = set()  # containers of RUN steps in progress

    # -- the whole build ----------------------------------------------------------------

    def build(self) -> Iterator[dict]:
        """Run the build; every message docker's classic builder would send, in order."""
        messages = self._messages()
        if not self.options.quiet:
            return messages
        return _quiet(messages)

    def _messages(self) -> Messages:
        try:
            image_id = yield from self._build()
        except StepFailed as exc:
            yield {"errorDetail": {"code": exc.code, "message": str(exc)}, "error": str(exc)}
            return
        except DockyardError as exc:
            yield {"errorDetail": {"message": str(exc)}, "error": str(exc)}
            return
        yield out(f"Successfully built {image_id[7:19]}\n")
        for name in self.options.tags:
            yield out(f"Successfully tagged {self.worker.tag(image_id, name)}\n")

    def _build(self) -> Generator[dict, None, str]:
        df = self.dockerfile
        froms = [substitute_from(stage.from_, self.global_args, df.escape) for stage in df.stages]
        plan = needed_stages(df, self.options.target, [f.base for f in froms])
        labels = self._label_step()
        self._total = sum(1 + len(df.stages[i].instructions) for i in plan) + (1 if labels else 0)
        first = 1
        for index in plan:  # step numbers as if the stages ran one after the other
            self._first_step[index] = first
            first += 1 + len(df.stages[index].instructions)

        def produce(index: int) -> Messages:
            steps = itertools.count(self._first_step[index])
            yield from self._stage(index, df.stages[index], froms[index].base, froms[index].platform, steps)
            if index == plan[-1] and labels:
                yield from self._instruction(self.stages[index], labels, steps)

        runner = StageRunner(plan, stage_dependencies(df, [f.base for f in froms]), produce, self._interrupt)
        try:
            for index in plan:
                yield from runner.messages(index, self.options.cancelled)
                if self.stages[index].image_id:
                    yield {"aux": {"ID": self.stages[index].image_id}}
        finally:
            runner.stop()
        unused = sorted(
            k for k in self.options.build_args if k not in self.consumed | PROXY_ARGS | {"SOURCE_DATE_EPOCH"}
        )
        if unused:
            yield out(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed\n")
        image_id = self.stages[plan[-1]].image_id
        if image_id is None:
            raise InvalidArgument("No image was generated. Is your Dockerfile empty?")
        return image_id

    def _global_args(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for arg in self.dockerfile.global_args:
            arg = substitute(arg, values, self.dockerfile.escape)
            for definition in arg.args:
                value = self.arg_value(definition.name, definition.default)
                if value is not None:
                    values[definition.name] = value
        return values

    def arg_value(self, name: str, default: str | None) -> str | None:
        """An ARG's value: the --build-arg given for it (now consumed), else its default."""
        if self.options.build_args.get(name) is not None:
            self.consumed.add(name)
            return self.options.build_args[name]
        return default

    def _label_step(self) -> Label | None:
        if not self.options.labels:
            return None
        pairs = tuple(KeyValue(k, v) for k, v in sorted(self.options.labels.items()))
        text = "LABEL " + " ".join(f'"{p.key}"="{p.value}"' for p in pairs)
        return Label(0, text, pairs)

    # -- stages -------------------------------------------------------------------------

    def _interrupt(self) -> None:
        """End the RUN steps in progress (the build is over or its client left)."""
        for container_id in list(self.running):
            self.worker.remove_container(container_id)

    def _stage(self, index: int, stage: Stage, base: str, platform: str, steps: Iterator[int]) -> Messages:
        yield from self._header(stage.from_.original, steps)
        state = yield from self._from(index, base, platform or self.options.platform, stage.name)
        self.stages[index] = state
        triggers = clear_onbuild(state.document) if state.image_id else []
        if triggers:
            yield out(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}\n")
            for expression in triggers:
                yield from self._dispatch(state, parse_trigger(expression, self.dockerfile.escape))
        for instruction in stage.instructions:
            yield from self._instruction(state, instruction, steps)

    def _from(self, index: int, base: str, platform: str, name: str) -> Generator[dict, None, StageState]:
        if base.lower() == "scratch":
            return StageState(index, name, None, scratch_document())
        earlier = self.earlier_stage(index, base)
        if earlier is not None:
            yield out(f" ---> {_short(earlier.image_id)}\n")
            return StageState(index, name, earlier.image_id, copy.deepcopy(earlier.document))
        image_id = None if self.options.pull else self.worker.find(base)
        if image_id is None:
            yield from self.worker.pull(base, platform or None)
            image_id = self.worker.find(base)
            if image_id is None:
                raise InvalidArgument(f"pull access denied for {base}, repository does not exist")
        document = self.worker.document(image_id)
        _check_platform(base, document, platform)
        yield out(f" ---> {_short(image_id)}\n")
        return StageState(index, name, image_id, document)

    def earlier_stage(self, index: int, ref: str) -> StageState | None:
        """The finished stage before `index` that `ref` names (by name, or by number)."""
        for number, stage in self.stages.items():
            if number < index and ((stage.name and stage.name.lower() == ref.lower()) or ref == str(number)):
                return stage
        return None

    def _instruction(self, state: StageState, instruction: Instruction, steps: Iterator[int]) -> Messages:
        yield from self._header(instruction.original, steps)
        yield from self._dispatch(state, instruction)

    def _header(self, text: str, steps: Iterator[int]) -> Messages:
        yield out(f"Step {next(steps)}/{self._total} : {text}")
        yield out("\n")

    def _dispatch(self, state: StageState, instruction: Instruction) -> Messages:
        handler = getattr(dispatchers, f"dispatch_{type(instruction).__name__.lower()}")
        yield from handler(self, state, substitute(instruction, state.env(), self.dockerfile.escape))

    # -- steps, through the cache -------------------------------------------------------

    def created(self) -> str:
        return timestamp(self.options.source_date_epoch)

    def now(self) -> int:
        """Seconds for the mtime of directories a step makes (the epoch when reproducible)."""
        epoch = self.options.source_date_epoch
        return epoch if epoch is not None else int(time.time())

    def step(self, state: StageState, key: str, produce: Callable[[], Generator[dict, None, str]]) -> Messages:
        """Use the cached image for `key`, or produce one (and remember it)."""
        parent = state.image_id or "scratch"
        if not self.options.no_cache:
            hit = self.cache.get(key)
            if hit is not None and self.worker.exists(hit):
                yield out(" ---> Using cache\n")
                state.image_id, state.document = hit, self.worker.document(hit)
                yield out(f" ---> {_short(hit)}\n")
                return
        image_id = yield from produce()
        self.cache.put(key, image_id, parent)
        state.image_id, state.document = image_id, self.worker.document(image_id)
        yield out(f" ---> {_short(image_id)}\n")

    def metadata(self, state: StageState, text: str, change: Callable[[dict], None]) -> Messages:
        """A step that only changes the config (ENV, LABEL, CMD, ...): history, no layer."""
        document = child_document(state.document, self.created(), f"/bin/sh -c #(nop)  {text}", empty_layer=True)
        change(document)
        key = cache_key(state.image_id or "scratch", "metadata", text, document.get("config"), document.get("author"))
        yield from self.step(state, key, lambda: done(self.worker.register(state.image_id, document)))


def _quiet(messages: Iterator[dict]) -> Messages:
    """`-q`: only errors and the image ID (docker prints `sha256:...` alone)."""
    image_id = None
    for message in messages:
        if "aux" in message:
            image_id = message["aux"]["ID"]
        elif "error" in message:
            yield message
            return
    if image_id:
        yield out(f"{image_id}\n")


def _short(image_id: str | None) -> str:
    return image_id[7:19] if image_id else ""


def _check_platform(base: str, document: dict, platform: str) -> None:
    """Refuse a local image of another platform than the one asked for."""
    if not platform:
        return
    wanted = platform.split("/")
    actual = [document.get("os", ""), document.get("architecture", "")]
    if wanted[:2] != actual[: len(wanted[:2])]:
        raise InvalidArgument(
            f"image with reference {base} was found but does not match the specified platform: "
            f"wanted {platform}, actual: {'/'.join(actual)}"
        )
