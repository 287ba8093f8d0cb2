"""`--change` instructions applied to an image config."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.images.changes import apply_changes


def test_each_instruction():
    config = apply_changes(
        {"Env": ["A=1"]},
        [
            'CMD ["echo", "hi"]',
            "ENTRYPOINT /bin/sh",
            "ENV A=2 B=3",
            "EXPOSE 80 53/udp",
            'LABEL k="v w"',
            "USER app",
            "WORKDIR /srv",
            "VOLUME /data",
            "STOPSIGNAL SIGINT",
        ],
    )
    assert config["Cmd"] == ["echo", "hi"]
    assert config["Entrypoint"] == ["/bin/sh", "-c", "/bin/sh"]
    assert config["Env"] == ["A=2", "B=3"]
    assert set(config["ExposedPorts"]) == {"80/tcp", "53/udp"}
    assert config["Labels"] == {"k": "v w"}
    assert (config["User"], config["WorkingDir"], config["StopSignal"]) == ("app", "/srv", "SIGINT")
    assert config["Volumes"] == {"/data": {}}


def test_env_legacy_form_takes_the_rest_of_the_line():
    assert apply_changes({}, ["ENV GREETING hello world"])["Env"] == ["GREETING=hello world"]


@pytest.mark.parametrize("change", ["RUN echo", "FROM x", "COPY a b"])
def test_build_only_instructions_are_refused(change):
    with pytest.raises(InvalidArgument, match="is not a valid change command"):
        apply_changes({}, [change])
