"""Dockerfiles parse the way BuildKit's dockerfile frontend parses them."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aivle_k8s.images.dockerfile import (
    DEFAULT_SHELL,
    INSTRUCTIONS,
    Dockerfile,
    Healthcheck,
    Instruction,
    bind_args,
    expand,
    expand_words,
    parse_dockerfile,
    parse_duration,
    parse_instruction,
    resolve,
)
from aivle_k8s.images.reference import parse_reference
from aivle_k8s.sim.errors import DockerfileParseError, InvalidInput, NotFound


def dockerfile(text: str, **kwargs) -> Dockerfile:
    return parse_dockerfile(textwrap.dedent(text).lstrip("\n"), **kwargs)


def only(text: str) -> Instruction:
    """The single instruction of a one-stage Dockerfile ``FROM scratch`` + text."""
    df = parse_dockerfile("FROM scratch\n" + textwrap.dedent(text).strip("\n") + "\n")
    (ins,) = df.stages[0].instructions
    return ins


# -- every instruction ---------------------------------------------------------
def test_from_with_name_and_platform():
    df = dockerfile("FROM --platform=linux/arm64 alpine:3.19 AS build\n")
    stage = df.stages[0]
    assert (stage.index, stage.name, stage.base, stage.base_line) == (0, "build", "alpine:3.19", 1)
    assert stage.platform == "linux/arm64"
    assert stage.base_ref == parse_reference("alpine:3.19")
    assert stage.from_instruction.keyword == "FROM"
    assert stage.from_instruction.original == "FROM --platform=linux/arm64 alpine:3.19 AS build"


def test_from_scratch_has_no_base_image():
    stage = dockerfile("FROM scratch\n").stages[0]
    assert stage.is_scratch and stage.base_ref is None and stage.base_stage is None


def test_run_shell_form_keeps_the_raw_string():
    ins = only("RUN apt-get update && apt-get install -y curl")
    assert (ins.keyword, ins.form) == ("RUN", "shell")
    assert ins.command == "apt-get update && apt-get install -y curl"
    assert ins.argv() == ("/bin/sh", "-c", "apt-get update && apt-get install -y curl")


def test_run_exec_form_is_the_argv():
    ins = only('RUN ["/bin/echo", "hello world"]')
    assert ins.form == "exec" and ins.is_exec_form
    assert ins.command == ("/bin/echo", "hello world")
    assert ins.argv(["/bin/bash", "-c"]) == ("/bin/echo", "hello world")


def test_run_flags_mount_network_security():
    ins = only(
        "RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=tok "
        "--network=none --security=insecure pip install x"
    )
    assert ins.flags["mount"] == ("type=cache,target=/root/.cache", "type=secret,id=tok")
    assert ins.flags["network"] == "none" and ins.flags["security"] == "insecure"
    assert ins.command == "pip install x"


def test_cmd_and_entrypoint_both_forms():
    assert only('CMD ["nginx", "-g", "daemon off;"]').argv() == ("nginx", "-g", "daemon off;")
    assert only("ENTRYPOINT exec nginx").argv() == ("/bin/sh", "-c", "exec nginx")


def test_shell_changes_how_shell_form_runs():
    shell = only('SHELL ["powershell", "-Command"]')
    assert shell.command == ("powershell", "-Command")
    assert only("RUN Get-Date").argv(shell.command) == ("powershell", "-Command", "Get-Date")
    assert DEFAULT_SHELL == ("/bin/sh", "-c")


def test_label_pairs_keep_quotes_until_resolved():
    ins = only('LABEL org.opencontainers.image.title="my app" version=1.0 "a key"=\'v w\'')
    assert ins.pairs == (
        ("org.opencontainers.image.title", '"my app"'),
        ("version", "1.0"),
        ('"a key"', "'v w'"),
    )
    assert resolve(ins, {}).pairs == (
        ("org.opencontainers.image.title", "my app"),
        ("version", "1.0"),
        ("a key", "v w"),
    )


def test_env_key_value_pairs():
    ins = only("ENV A=1 B=two\\ words C=\"three words\"")
    assert resolve(ins, {}).env == {"A": "1", "B": "two words", "C": "three words"}


def test_env_legacy_form_takes_the_rest_of_the_line_and_warns():
    df = dockerfile("FROM scratch\nENV GREETING hello big world\n")
    (ins,) = df.stages[0].instructions
    assert ins.pairs == (("GREETING", "hello big world"),)
    assert any(w.startswith("LegacyKeyValueFormat") and "(line 2)" in w for w in df.warnings)


def test_expose_ports_sorted_and_normalised_when_resolved():
    ins = only("EXPOSE 80 53/udp 443/tcp 8000-8002")
    assert ins.ports == ("443/tcp", "53/udp", "80", "8000-8002")
    assert resolve(ins, {}).ports == (
        "443/tcp", "53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp",
    )  # fmt: skip


def test_expose_variable_is_checked_when_resolved():
    ins = only("EXPOSE ${PORTS}")
    assert resolve(ins, {"PORTS": "8080 9090/udp"}).ports == ("8080/tcp", "9090/udp")
    with pytest.raises(DockerfileParseError) as info:
        resolve(ins, {"PORTS": "http"})
    assert info.value.line == 2 and "invalid containerPort: http" in str(info.value)


def test_expose_host_mapping_is_a_warning():
    df = dockerfile("FROM scratch\nEXPOSE 8080:80\n")
    assert any(w.startswith("ExposeInvalidFormat") for w in df.warnings)


def test_copy_flags_sources_and_dest():
    ins = only("COPY --chown=1000:1000 --chmod=755 --link src/ README.md /app/")
    assert dict(ins.flags) == {"chown": "1000:1000", "chmod": "755", "link": True}
    assert ins.sources == ("src/", "README.md") and ins.dest == "/app/"
    assert ins.form == "shell"


def test_copy_json_form_allows_spaces_in_names():
    ins = only('COPY ["my file.txt", "/dest dir/"]')
    assert ins.form == "exec" and ins.sources == ("my file.txt",) and ins.dest == "/dest dir/"


def test_add_flags():
    ins = only("ADD --checksum=sha256:abc --keep-git-dir=false https://x.io/a.tgz /opt/")
    assert ins.flags["checksum"] == "sha256:abc" and ins.flags["keep-git-dir"] is False
    assert ins.sources == ("https://x.io/a.tgz",) and ins.dest == "/opt/"


def test_volume_both_forms():
    assert only('VOLUME ["/data", "/logs"]').paths == ("/data", "/logs")
    assert only("VOLUME /a /b").paths == ("/a", "/b")


@pytest.mark.parametrize("keyword, text", [
    ("USER", "app:app"), ("WORKDIR", "/app"), ("STOPSIGNAL", "SIGQUIT"), ("STOPSIGNAL", "9"),
])  # fmt: skip
def test_single_value_instructions(keyword, text):
    ins = only(f"{keyword} {text}")
    assert (ins.keyword, ins.value) == (keyword, text)


def test_healthcheck_cmd_with_options():
    ins = only(
        "HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=500ms "
        "--retries=5 CMD curl -f http://localhost/ || exit 1"
    )
    assert ins.healthcheck == Healthcheck(
        test=("CMD-SHELL", "curl -f http://localhost/ || exit 1"),
        interval=30.0, timeout=3.0, start_period=60.0, start_interval=0.5, retries=5,
    )  # fmt: skip


def test_healthcheck_exec_form_and_none():
    assert only('HEALTHCHECK CMD ["/check", "-q"]').healthcheck.test == ("CMD", "/check", "-q")
    assert only("HEALTHCHECK NONE").healthcheck == Healthcheck(test=("NONE",))


def test_onbuild_wraps_an_instruction():
    ins = only("ONBUILD COPY --chown=app . /src")
    assert ins.value == "COPY --chown=app . /src"
    assert ins.trigger.keyword == "COPY" and ins.trigger.flags["chown"] == "app"


def test_maintainer_is_parsed_with_a_deprecation_warning():
    df = dockerfile("FROM scratch\nMAINTAINER Ada <ada@example.com>\n")
    assert df.stages[0].instructions[0].value == "Ada <ada@example.com>"
    assert df.warnings == (
        "MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label "
        "(line 2)",
    )


def test_arg_names_and_defaults():
    ins = only('ARG VERSION BUILD_DATE="2024-01-01"')
    assert ins.pairs == (("VERSION", None), ("BUILD_DATE", '"2024-01-01"'))


def test_keywords_are_case_insensitive():
    df = dockerfile("from alpine\nrun echo hi\nCopy a b\n")
    assert [i.keyword for i in df.stages[0].instructions] == ["RUN", "COPY"]


def test_every_keyword_is_known():
    assert set(INSTRUCTIONS) == {
        "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
        "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
    }  # fmt: skip


# -- lines: continuations, comments, directives --------------------------------
def test_continuation_lines_join_and_keep_the_first_line_number():
    df = dockerfile(
        """
        FROM alpine
        RUN apk add \\
              curl \\
              git
        USER app
        """
    )
    run, user = df.stages[0].instructions
    assert run.command == "apk add       curl       git"
    assert (run.line, run.end_line, user.line) == (2, 4, 5)
    assert run.original == "RUN apk add       curl       git"


def test_comments_inside_continuations_are_skipped():
    df = dockerfile(
        """
        FROM alpine
        RUN apk add \\
        # the HTTP client
              curl \\
            # indented comment
              git
        """
    )
    assert df.stages[0].instructions[0].command == "apk add       curl       git"


def test_empty_continuation_line_is_skipped_with_a_warning():
    df = parse_dockerfile("FROM alpine\nRUN a \\\n\nb\n")
    assert df.stages[0].instructions[0].command == "a b"
    assert any(w.startswith("NoEmptyContinuation") for w in df.warnings)


def test_escaped_escape_at_end_is_not_a_continuation():
    df = parse_dockerfile("FROM alpine\nRUN echo a\\\\\nRUN echo b\n")
    assert [i.command for i in df.stages[0].instructions] == ["echo a\\\\", "echo b"]


def test_continuation_at_end_of_file():
    assert parse_dockerfile("FROM alpine\nRUN something \\").stages[0].instructions[0].command == (
        "something"
    )


def test_escape_directive_switches_to_backtick():
    df = parse_dockerfile("# escape=`\nFROM scratch\nRUN dir c:\\ `\n    && echo done\n")
    assert df.escape == "`" and df.directives == {"escape": "`"}
    assert df.stages[0].instructions[0].command == "dir c:\\     && echo done"


def test_syntax_and_escape_directives_only_at_the_very_top():
    df = parse_dockerfile("# syntax=docker/dockerfile:1\n# escape=`\nFROM scratch\n")
    assert dict(df.directives) == {"syntax": "docker/dockerfile:1", "escape": "`"}
    after_comment = parse_dockerfile("# a comment\n# escape=`\nFROM scratch\nRUN a \\\nb\n")
    assert after_comment.directives == {} and after_comment.escape == "\\"
    assert after_comment.stages[0].instructions[0].command == "a b"
    after_blank = parse_dockerfile("\n# escape=`\nFROM scratch\n")
    assert after_blank.escape == "\\"


def test_leading_whitespace_and_crlf_line_endings():
    df = parse_dockerfile("  FROM alpine\r\n\tRUN echo hi\r\n")
    assert df.stages[0].instructions[0].command == "echo hi"


def test_byte_order_mark_is_ignored():
    assert parse_dockerfile("\ufeffFROM alpine\n").stages[0].base == "alpine"


# -- exec vs shell form --------------------------------------------------------
def test_invalid_json_falls_back_to_shell_form():
    ins = only('CMD [ "echo", "unterminated ]')
    assert ins.form == "shell" and ins.command == '[ "echo", "unterminated ]'


def test_json_with_non_strings_is_an_error():
    with pytest.raises(DockerfileParseError) as info:
        parse_dockerfile('FROM alpine\nCMD ["echo", 1]\n')
    assert info.value.line == 2
    assert "arrays must be comprised of strings only" in str(info.value)


def test_shell_form_cmd_warns_json_args_recommended():
    df = dockerfile("FROM alpine\nCMD nginx\n")
    assert df.warnings == (
        "JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended "
        "behavior related to OS signals (line 2)",
    )


# -- heredocs ------------------------------------------------------------------
def test_run_heredoc_runs_its_content():
    df = parse_dockerfile("FROM alpine\nRUN <<EOF\nset -e\necho hi\nEOF\nUSER app\n")
    run, user = df.stages[0].instructions
    assert run.heredocs[0].name == "EOF" and run.heredocs[0].content == "set -e\necho hi\n"
    assert run.argv() == ("/bin/sh", "-c", "set -e\necho hi\n")
    assert (run.line, run.end_line, user.line) == (2, 5, 6)


def test_run_heredoc_fed_to_a_command():
    run = parse_dockerfile("FROM a\nRUN python3 <<PY\nprint(1)\nPY\n").stages[0].instructions[0]
    assert run.argv() == ("/bin/sh", "-c", "python3 <<PY\nprint(1)\nPY")


def test_copy_heredoc_creates_a_file_and_expands_unless_quoted():
    df = parse_dockerfile(
        "FROM a\nCOPY <<EOF /etc/motd\nhi $NAME\nEOF\nCOPY <<'RAW' /raw\n$NAME\nRAW\n"
    )
    copy, raw = df.stages[0].instructions
    assert copy.sources == () and copy.dest == "/etc/motd"
    assert resolve(copy, {"NAME": "ada"}).heredocs[0].data == "hi ada\n"
    assert resolve(raw, {"NAME": "ada"}).heredocs[0].data == "$NAME\n"


def test_chomped_heredoc_strips_leading_tabs():
    run = parse_dockerfile("FROM a\nRUN <<-EOF\n\techo hi\n\tEOF\n").stages[0].instructions[0]
    assert run.heredocs[0].data == "echo hi\n"


def test_json_form_has_no_heredocs():
    df = parse_dockerfile('FROM a\nRUN ["<<EOF"]\nUSER x\n')
    assert df.stages[0].instructions[0].heredocs == ()
    assert len(df.stages[0].instructions) == 2


# -- substitution --------------------------------------------------------------
ENV = {"NAME": "world", "EMPTY": "", "PATHY": "/usr/local/bin/app.tar.gz"}


@pytest.mark.parametrize("text, expected", [
    ("$NAME", "world"),
    ("${NAME}", "world"),
    ("x${NAME}y", "xworldy"),
    ("$UNSET", ""),
    ("${UNSET:-default}", "default"),
    ("${EMPTY:-default}", "default"),
    ("${EMPTY-default}", ""),
    ("${UNSET-default}", "default"),
    ("${NAME:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET+alt}", ""),
    ("${UNSET:-$NAME}", "world"),
    ("\\$NAME", "$NAME"),
    ("'$NAME'", "$NAME"),
    ('"$NAME"', "world"),
    ('"it\'s $NAME"', "it's world"),
    ("a\\ b", "a b"),
    ("$", "$"),
    ("${PATHY##*/}", "app.tar.gz"),
    ("${PATHY#*/}", "usr/local/bin/app.tar.gz"),
    ("${PATHY%%.*}", "/usr/local/bin/app"),
    ("${PATHY%.*}", "/usr/local/bin/app.tar"),
    ("${NAME/o/0}", "w0rld"),
    ("${PATHY//\\//:}", ":usr:local:bin:app.tar.gz"),
])  # fmt: skip
def test_expand_like_the_buildkit_shell_lexer(text, expected):
    assert expand(text, ENV) == expected


@pytest.mark.parametrize("text, message", [
    ("${NAME", "missing '}'"),
    ("${}", "bad substitution"),
    ("${NAME:x}", "unsupported modifier (:x)"),
    ("${UNSET?is required}", "UNSET: is required"),
    ("'open", "matching single-quote"),
    ('"open', "matching double-quote"),
])  # fmt: skip
def test_expand_syntax_errors(text, message):
    with pytest.raises(DockerfileParseError) as info:
        expand(text, ENV)
    assert message in str(info.value) and info.value.line is None


def test_expand_with_backtick_escape():
    assert expand("`$NAME \\x", ENV, escape="`") == "$NAME \\x"


def test_expand_words_splits_unquoted_results():
    assert expand_words('$A "b c" d', {"A": "1 2"}) == ["1", "2", "b c", "d"]


def test_resolve_substitutes_only_where_docker_does():
    env = {"APP": "/srv", "U": "ada", "SIG": "SIGINT"}
    assert resolve(only("WORKDIR $APP/x"), env).value == "/srv/x"
    assert resolve(only("USER ${U}"), env).value == "ada"
    assert resolve(only("STOPSIGNAL $SIG"), env).value == "SIGINT"
    assert resolve(only("VOLUME $APP/data"), env).paths == ("/srv/data",)
    copy = resolve(only("COPY --chown=$U:$U --chmod=644 $APP/a ${APP}/b"), env)
    assert (copy.flags["chown"], copy.sources, copy.dest) == ("ada:ada", ("/srv/a",), "/srv/b")
    for text in ("RUN echo $APP", "CMD echo $APP", 'ENTRYPOINT ["$APP"]'):
        ins = only(text)
        assert resolve(ins, env).command == ins.command
        assert resolve(ins, env).resolved


def test_env_sees_values_from_before_the_instruction():
    ins = only("ENV A=new B=$A")
    assert resolve(ins, {"A": "old"}).pairs == (("A", "new"), ("B", "old"))


def test_resolve_reports_the_line_of_a_bad_substitution():
    ins = parse_dockerfile("FROM a\n\nWORKDIR ${DIR\n").stages[0].instructions[0]
    with pytest.raises(DockerfileParseError) as info:
        resolve(ins, {})
    assert info.value.line == 3 and "failed to process" in str(info.value)


def test_resolve_checks_stopsignal_after_substitution():
    with pytest.raises(DockerfileParseError) as info:
        resolve(only("STOPSIGNAL $S"), {"S": "SIGNOPE"})
    assert "Invalid signal: SIGNOPE" in str(info.value)


def test_resolve_rejects_a_volume_that_becomes_empty():
    with pytest.raises(DockerfileParseError, match="VOLUME specified can not be an empty string"):
        resolve(only("VOLUME $NOTHING"), {})


# -- ARG -----------------------------------------------------------------------
def test_global_arg_is_used_in_from():
    df = dockerfile("ARG VERSION=3.19\nFROM alpine:${VERSION}\n")
    assert df.stages[0].base == "alpine:3.19"
    assert [a.pairs for a in df.global_args] == [(("VERSION", "3.19"),)]


def test_build_args_override_global_defaults():
    df = dockerfile("ARG VERSION=3.19\nFROM alpine:${VERSION}\n", build_args={"VERSION": "3.20"})
    assert df.stages[0].base == "alpine:3.20"
    assert df.global_env({"VERSION": "3.18"})["VERSION"] == "3.18"


def test_undeclared_build_args_are_not_visible_in_from():
    df = dockerfile("FROM alpine${SUFFIX}\n", build_args={"SUFFIX": ":edge"})
    assert df.stages[0].base == "alpine"


def test_platform_args_are_predefined():
    df = dockerfile("FROM --platform=$BUILDPLATFORM golang AS b\n")
    assert df.stages[0].platform == "linux/amd64"


def test_bind_args_build_arg_then_default_then_global():
    arg = only("ARG A B=${X}-b C D")
    assert bind_args(arg, {"X": "x"}, {"A": "cli"}, {"C": "global"}) == (
        ("A", "cli"), ("B", "x-b"), ("C", "global"), ("D", None),
    )  # fmt: skip


# -- multi-stage ---------------------------------------------------------------
MULTI = """
FROM golang:1.22 AS build
RUN go build -o /app .
FROM build AS test
RUN go test ./...
FROM gcr.io/distroless/static
COPY --from=build /app /app
COPY --from=0 /etc/passwd /etc/passwd
COPY --from=BUILD /x /x
COPY --from=nginx:1.25 /etc/nginx/nginx.conf /etc/nginx/
"""


def test_stages_by_index_and_name():
    df = dockerfile(MULTI)
    assert [s.name for s in df.stages] == ["build", "test", None]
    assert df.stage("build") is df.stages[0] and df.stage(1).name == "test"
    assert df.stage("2") is df.target is df.stages[-1]
    assert [s.display_name for s in df.stages] == ["build", "test", "stage-2"]


def test_from_an_earlier_stage_uses_it_as_base():
    test = dockerfile(MULTI).stage("test")
    assert test.base == "build" and test.base_stage == 0 and test.base_ref is None


def test_copy_from_resolves_stages_and_images():
    copies = dockerfile(MULTI).stages[2].instructions
    assert [c.from_stage for c in copies] == [0, 0, 0, None]
    assert copies[3].from_image == parse_reference("nginx:1.25")


def test_unknown_target_stage():
    with pytest.raises(NotFound) as info:
        dockerfile(MULTI).stage("biuld")
    assert str(info.value) == 'target stage "biuld" could not be found (did you mean build?)'


def test_stage_names_are_lowercased_with_a_warning():
    df = dockerfile("FROM alpine AS Builder\nFROM builder\n")
    assert df.stages[0].name == "builder" and df.stages[1].base_stage == 0
    assert any(w.startswith("StageNameCasing: Stage name 'Builder'") for w in df.warnings)


def test_a_later_stage_name_in_from_is_an_image():
    df = dockerfile("FROM later\nFROM alpine AS later\n")
    assert df.stages[0].base_stage is None
    assert df.stages[0].base_ref == parse_reference("later")


def test_repr_is_short():
    df = dockerfile(MULTI)
    assert repr(df) == "<Dockerfile Dockerfile: 3 stages (build, test, 2)>"
    assert repr(df.stages[0]) == "<Stage 0 build FROM golang:1.22 (1 instructions)>"
    assert repr(df.stages[0].instructions[0]) == "<Instruction line 2: RUN go build -o /app .>"
    assert str(df.stages[0].instructions[0]) == "RUN go build -o /app ."


def test_instructions_are_hashable_values():
    a, b = only("RUN x"), only("RUN x")
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.keyword = "CMD"  # type: ignore[misc]
    with pytest.raises(TypeError):
        a.flags["x"] = 1  # type: ignore[index]


# -- parse_instruction and durations -------------------------------------------
def test_parse_instruction_for_onbuild_triggers():
    ins = parse_instruction("RUN make \\\n  install", line=7)
    assert (ins.keyword, ins.command, ins.line) == ("RUN", "make   install", 7)
    with pytest.raises(DockerfileParseError) as info:
        parse_instruction("RUNN make", line=7)
    assert info.value.line == 7


def test_parse_duration_follows_go():
    assert parse_duration("1h2m3.5s") == 3723.5
    assert parse_duration("100us") == pytest.approx(1e-4)
    for bad in ("", "5", "5x", "s"):
        with pytest.raises(ValueError, match="time: "):
            parse_duration(bad)


# -- errors ----------------------------------------------------------------------
ERRORS = [
    ("", None, "the Dockerfile (Dockerfile) cannot be empty"),
    ("# only a comment\n\n", 2, "file with no instructions"),
    ("FROM alpine\nRUNN make\n", 2, "unknown instruction: RUNN (did you mean RUN?)"),
    ("FROM alpine\ncopyy a b\n", 2, "unknown instruction: copyy (did you mean copy?)"),
    ("FROM alpine\nBOGUS x\n", 2, "unknown instruction: BOGUS"),
    ("RUN make\n", 1, "no build stage in current context"),
    ("ARG A\n\nCOPY a b\n", 3, "no build stage in current context"),
    ("ARG A=1\n", 1, "dockerfile contains no stages to build"),
    ("FROM\n", 1, "FROM requires either one or three arguments"),
    ("FROM a b\n", 1, "FROM requires either one or three arguments"),
    ("FROM a AS 1st\n", 1, 'invalid name for build stage: "1st"'),
    ("FROM a AS my/stage\n", 1, 'invalid name for build stage: "my/stage"'),
    ("FROM a AS x\nFROM b AS x\n", 2, 'Duplicate stage name "x"'),
    ("FROM Alpine\n", 1, 'failed to parse stage name "Alpine": invalid reference format: '
                         "repository name (library/Alpine) must be lowercase"),
    ("ARG IMG=Bad:tag\nFROM $IMG\n", 2, 'failed to parse stage name "Bad:tag"'),
    ("ARG B\nFROM ${B}\n", 2, "base name (${B}) should not be blank"),
    ("FROM alpine\nENV\n", 2, "ENV requires at least one argument"),
    ("FROM alpine\nENV =x\n", 2, "ENV names can not be blank"),
    ("FROM alpine\nENV ONLYKEY\n", 2, "ENV must have two arguments"),
    ("FROM alpine\nLABEL a=1 b\n", 2, "can't find = in \"b\""),
    ("FROM alpine\nARG =x\n", 2, "ARG names can not be blank"),
    ("FROM alpine\nCOPY onlyone\n", 2,
     "COPY requires at least two arguments, but only one was provided. "
     "Destination could not be determined"),
    ("FROM alpine\nADD\n", 2, "ADD requires at least two arguments"),
    ("FROM alpine\nCOPY --frm=build a b\n", 2, "unknown flag: --frm (did you mean from?)"),
    ("FROM alpine\nENV --x=1 A=1\n", 2, "unknown flag: --x"),
    ("FROM alpine\nCOPY --from a b\n", 2, "missing a value on flag: --from"),
    ("FROM alpine\nCOPY --link=perhaps a b\n", 2, "expecting boolean value for flag --link"),
    ("FROM alpine\nCOPY --chown=a --chown=b x y\n", 2, "duplicate flag specified: --chown"),
    ("FROM alpine\nCOPY --from=$STAGE a b\n", 2, "variable expansion is not supported for --from"),
    ("FROM alpine AS a\nCOPY --from=a x y\n", 2, "circular dependency detected on stage: a"),
    ("FROM alpine AS a\nCOPY --from=b x y\nFROM alpine AS b\n", 2,
     'cannot copy from stage "b", it needs to be defined before current stage "a"'),
    ("FROM alpine\nCOPY --from=3 x y\n", 2, "invalid stage index 3"),
    ("FROM alpine\nCOPY --from=Nope x y\n", 2, 'failed to parse stage name "Nope"'),
    ("FROM alpine\nEXPOSE eighty\n", 2, "invalid containerPort: eighty"),
    ("FROM alpine\nEXPOSE 70000\n", 2, "invalid containerPort: 70000"),
    ("FROM alpine\nEXPOSE 80/icmp\n", 2, 'invalid port: "80/icmp": invalid proto: icmp'),
    ("FROM alpine\nEXPOSE\n", 2, "EXPOSE requires at least one argument"),
    ("FROM alpine\nHEALTHCHECK --interval=soon CMD true\n", 2, 'time: invalid duration "soon"'),
    ("FROM alpine\nHEALTHCHECK --timeout=10 CMD true\n", 2, 'time: missing unit in duration "10"'),
    ("FROM alpine\nHEALTHCHECK --interval=1us CMD true\n", 2,
     'Interval "interval" cannot be less than 1ms'),
    ("FROM alpine\nHEALTHCHECK --retries=-1 CMD true\n", 2, "--retries cannot be negative (-1)"),
    ("FROM alpine\nHEALTHCHECK --retries=x CMD true\n", 2, 'parsing "x": invalid syntax'),
    ("FROM alpine\nHEALTHCHECK --intervl=5s CMD true\n", 2,
     "unknown flag: --intervl (did you mean interval?)"),
    ("FROM alpine\nHEALTHCHECK RUN true\n", 2, 'Unknown type "RUN" in HEALTHCHECK (try CMD)'),
    ("FROM alpine\nHEALTHCHECK CMD\n", 2, "Missing command after HEALTHCHECK CMD"),
    ("FROM alpine\nHEALTHCHECK NONE now\n", 2, "HEALTHCHECK NONE takes no arguments"),
    ("FROM alpine\nHEALTHCHECK\n", 2, "HEALTHCHECK requires at least one argument"),
    ("FROM alpine\nSHELL /bin/bash -c\n", 2, "SHELL requires the arguments to be in JSON form"),
    ("FROM alpine\nSHELL []\n", 2, "SHELL requires at least one argument"),
    ("FROM alpine\nRUN --network=bridge make\n", 2, 'invalid network mode "bridge"'),
    ("FROM alpine\nRUN --mount=type=nfs make\n", 2, 'unsupported mount type "nfs"'),
    ("FROM alpine\nONBUILD\n", 2, "ONBUILD requires at least one argument"),
    ("FROM alpine\nONBUILD ONBUILD RUN x\n", 2,
     "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
    ("FROM alpine\nONBUILD FROM x\n", 2, "FROM isn't allowed as an ONBUILD trigger"),
    ("FROM alpine\nONBUILD MAINTAINER x\n", 2, "MAINTAINER isn't allowed as an ONBUILD trigger"),
    ("FROM alpine\nONBUILD RUNN x\n", 2, "unknown instruction: RUNN"),
    ("FROM alpine\nWORKDIR\n", 2, "WORKDIR requires exactly one argument"),
    ("FROM alpine\nUSER\n", 2, "USER requires exactly one argument"),
    ("FROM alpine\nSTOPSIGNAL\n", 2, "STOPSIGNAL requires exactly one argument"),
    ("FROM alpine\nSTOPSIGNAL SIGBOGUS\n", 2, "Invalid signal: SIGBOGUS"),
    ("FROM alpine\nMAINTAINER\n", 2, "MAINTAINER requires exactly one argument"),
    ('FROM alpine\nVOLUME [""]\n', 2, "VOLUME specified can not be an empty string"),
    ("FROM alpine\nVOLUME\n", 2, "VOLUME requires at least one argument"),
    ("FROM alpine\nRUN <<EOF\necho\n", 2, "unterminated heredoc"),
    ("FROM alpine\nCOPY a <<EOF\nEOF\n", 2, "COPY cannot accept a heredoc as a destination"),
    ("# escape=x\nFROM alpine\n", 1, "invalid escape token 'x' does not match ` or \\"),
    ("# escape=`\n# escape=\\\nFROM alpine\n", 2, "only one escape parser directive can be used"),
    ("ARG V=${\nFROM alpine\n", 1, "syntax error: missing '}'"),
    ("ARG P\nFROM --platform=$P alpine\n", 2, "empty platform value from expression $P"),
    ("FROM --platform=linux//x alpine\n", 1, "failed to parse platform linux//x"),
    # the line of a continued instruction is its first line
    ("FROM alpine\nRUN echo \\\n  hi\nCOPY \\\n  onlyone\n", 4, "COPY requires at least two"),
]  # fmt: skip


@pytest.mark.parametrize("text, line, message", ERRORS)
def test_errors_name_the_line(text, line, message):
    with pytest.raises(DockerfileParseError) as info:
        parse_dockerfile(text)
    err = info.value
    assert err.line == line
    assert message in str(err)
    if line is not None:
        assert str(err).startswith(f"dockerfile parse error on line {line}: ")


def test_empty_file_names_the_file():
    with pytest.raises(DockerfileParseError) as info:
        parse_dockerfile("", filename="Dockerfile.dev")
    assert str(info.value) == "the Dockerfile (Dockerfile.dev) cannot be empty"


def test_parse_error_is_an_invalid_input():
    with pytest.raises(InvalidInput):
        parse_dockerfile("FROM\n")


# -- properties ------------------------------------------------------------------
_tokens = st.sampled_from([
    "\\", "`", "$", "${", "}", ":-", "'", '"', "[", "]", '["a", "b"]', "<<EOF", "EOF", "<<-X",
    "--from=", "--from=0", "--mount=type=cache,target=/x", "--chown=", "--link", "--", "AS", "as",
    "x", "80/tcp", "53/udp", "--interval=5s", "--retries=2", "CMD", "NONE", "=", "a=b", " ",
    "\t", "\n", "0", "-1", "scratch", "alpine:3", "${A:-b}", "${A/x/y}", "${A%%*}", "#",
])  # fmt: skip
_keyword = st.sampled_from(
    [*INSTRUCTIONS, "run", "Copy", "RUNN", "FORM", "#", "# escape=`", "# syntax=x", ""]
)
_line = st.builds(
    lambda kw, parts: kw + " " + "".join(parts),
    _keyword,
    st.lists(st.one_of(_tokens, st.text(max_size=6)), max_size=8),
)
_dockerfiles = st.lists(_line, max_size=10).map("\n".join)


def _exercise(df: Dockerfile) -> None:
    env = {"A": "1 2", "B": ""}
    for stage in df.stages:
        for ins in stage.instructions:
            try:
                resolved = resolve(ins, env)
            except DockerfileParseError as err:
                assert err.line == ins.line
                continue
            if resolved.keyword in ("RUN", "CMD", "ENTRYPOINT"):
                assert isinstance(resolved.argv(), tuple)
            if resolved.keyword == "ARG":
                bind_args(resolved, env, {"A": "x"}, {})
    hash(df)
    repr(df)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_raises_dockerfile_parse_error(text):
    try:
        df = parse_dockerfile(text)
    except DockerfileParseError as err:
        assert str(err)
        assert err.line is None or err.line >= 1
        return
    _exercise(df)


@settings(max_examples=400, deadline=None)
@given(_dockerfiles)
def test_lines_of_keywords_and_random_arguments_parse_or_raise_parse_error(text):
    try:
        df = parse_dockerfile(text)
    except DockerfileParseError as err:
        assert err.line is None or 1 <= err.line <= text.count("\n") + 1
        return
    _exercise(df)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.dictionaries(st.from_regex(r"[A-Z]{1,3}", fullmatch=True),
                                            st.text(max_size=5), max_size=3))
def test_expand_returns_text_or_raises_parse_error(text, env):
    try:
        assert isinstance(expand(text, env), str)
        assert isinstance(expand_words(text, env), list)
    except DockerfileParseError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_./ -]{0,30}", fullmatch=True))
def test_single_quoted_text_is_never_expanded(text):
    assert expand(f"'{text}$X'", {"X": "no"}) == f"{text}$X"
