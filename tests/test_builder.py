"""docker build: every instruction, the cache, multi-stage builds, failures and the log."""

from __future__ import annotations

import gzip
import io
import re
import shlex
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aivle_k8s.images.builder import Builder, dockerignore_matcher, history_rows, kernel_runner
from aivle_k8s.images.image import DEFAULT_PATH, Image, ImageConfig
from aivle_k8s.images.store import ImageStore
from aivle_k8s.linux.fs import Entry, FileSystem
from aivle_k8s.linux.kernel import Kernel, program_entry, register_program
from aivle_k8s.sim.clock import Loop
from aivle_k8s.sim.errors import BuildError, DockerfileParseError, ImageNotFound

T_BASE = "2025-01-01T00:00:00Z"
SH = "aivle-test-builder-sh"  # our own tiny shell (the real one lives in aivle_k8s.linux)


# -- a tiny shell for RUN steps ----------------------------------------------------------------------
@register_program(SH)
def tiny_sh(proc):
    """``sh -c 'cmd && cmd'`` with echo (>, >>), printenv, mkdir -p, rm -rf, touch, cat, id -u, pwd, sleep, exit."""
    script = proc.argv[-1] if len(proc.argv) > 1 else ""  # sh [-flags] SCRIPT
    for part in script.split("&&"):
        part = re.sub(r"\$\{?(\w+)\}?", lambda m: proc.env.get(m.group(1), ""), part)
        words = shlex.split(part)
        if not words:
            continue
        cmd, args = words[0], words[1:]
        if cmd == "exit":
            return int(args[0]) if args else 0
        if cmd == "echo":
            if ">" in args or ">>" in args:
                op = ">>" if ">>" in args else ">"
                i = args.index(op)
                proc.fs.write(proc.path(args[i + 1]), " ".join(args[:i]) + "\n", append=op == ">>")
            else:
                proc.write(" ".join(args) + "\n")
        elif cmd == "printenv":
            proc.write(proc.env.get(args[0], "") + "\n")
        elif cmd == "mkdir":
            proc.fs.mkdir(proc.path(args[-1]), parents=True, exist_ok=True)
        elif cmd == "rm":
            proc.fs.remove(proc.path(args[-1]), recursive=True)
        elif cmd == "touch":
            proc.fs.write(proc.path(args[0]), b"", append=True)
        elif cmd == "cat":
            proc.write(proc.fs.read(proc.path(args[0])))
        elif cmd == "id":
            proc.write(f"{proc.uid}\n")
        elif cmd == "pwd":
            proc.write(proc.cwd + "\n")
        elif cmd == "sleep":
            yield proc.sleep(float(args[0]))
        elif cmd == "true":
            pass
        else:
            proc.error(f"sh: 1: {cmd}: not found\n")
            return 127
    return 0


def base_rootfs() -> dict:
    return {
        "/bin": Entry.directory(), "/bin/sh": program_entry(SH, 64),
        "/etc": Entry.directory(),
        "/etc/passwd": Entry.file("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
        "/etc/group": Entry.file("root:x:0:\napp:x:1000:\nstaff:x:50:\n"),
        "/tmp": Entry.directory(0o1777), "/root": Entry.directory(0o700),
    }


def base_image() -> Image:
    img = Image(ImageConfig(env=("PATH=/usr/local/bin:/usr/bin:/bin",), cmd=("sh",)), created=T_BASE)
    return img.add_layer(base_rootfs(), "ADD rootfs.tar / # buildkit", T_BASE)


class Clock:
    def __init__(self):
        self.minute = 0

    def __call__(self) -> str:
        return f"2025-03-03T10:{self.minute:02d}:00Z"


class Env:
    """A store with base:1, a kernel-backed builder, a build context at /ctx."""

    def __init__(self):
        self.store = ImageStore()
        self.store.add(base_image(), tags=["base:1"])
        self.loop = Loop()
        self.kernel = Kernel(self.loop)
        self.clock = Clock()
        self.calls: list[tuple] = []
        self.pulled: list[str] = []
        self.remote: dict[str, Image] = {}
        run = kernel_runner(self.kernel)

        def runner(rootfs, argv, env, workdir, user):
            self.calls.append((list(argv), dict(env), workdir, user))
            return run(rootfs, argv, env, workdir, user)

        def pull(ref: str) -> Image:
            self.pulled.append(ref)
            if ref not in self.remote:
                raise ImageNotFound(f"pull access denied for {ref}, repository does not exist")
            return self.remote[ref]

        self.builder = Builder(self.store, runner, pull, now=self.clock)
        self.ctx = FileSystem([{}])
        self.ctx.mkdir("/ctx")

    def write(self, name: str, data: str | bytes, mode: int = 0o644) -> None:
        path = "/ctx/" + name
        parent = path.rsplit("/", 1)[0]
        self.ctx.mkdir(parent, parents=True, exist_ok=True)
        self.ctx.write(path, data, mode=mode, uid=1000, gid=1000)

    def build(self, dockerfile: str, **kw):
        self.write("Dockerfile", dockerfile)
        return self.builder.build(self.ctx, "/ctx", **kw)

    def fs(self, image: Image) -> FileSystem:
        return FileSystem(image.rootfs_layers())

    def snapshot(self):
        return (self.store.references(), [i.id for i in self.store.images()],
                sorted(l.diff_id for l in self.store.layers()))


@pytest.fixture
def env() -> Env:
    return Env()


# -- basics and the log ---------------------------------------------------------------------------
def test_build_tags_the_image_in_the_store(env):
    result = env.build("FROM base:1\nCMD [\"sh\", \"-c\", \"echo hi\"]\n", tags=["app:1"])
    assert env.store.get("app:1").id == result.image.id
    assert result.image.config.cmd == ("sh", "-c", "echo hi")
    assert repr(result.image).startswith("<Image docker.io/library/app:1 sha256:")


def test_log_reads_like_buildkit_plain_progress(env):
    result = env.build("FROM base:1\nRUN echo hello\n", tags=["app:1"])
    log = result.log
    assert log.startswith('#0 building with "default" instance using docker driver\n\n#1 [internal] '
                          "load build definition from Dockerfile\n#1 transferring dockerfile: 27B done\n#1 DONE 0.0s\n")
    assert "#2 [internal] load metadata for docker.io/library/base:1\n#2 DONE 0.0s" in log
    assert "#3 [internal] load .dockerignore" in log
    assert "#4 [1/2] FROM docker.io/library/base:1\n#4 DONE 0.0s" in log
    assert "#5 [2/2] RUN echo hello\n#5 0.000 hello\n#5 DONE 0.0s" in log
    assert f"#6 writing image {result.image.id} done\n#6 naming to docker.io/library/app:1 done\n#6 DONE 0.0s\n" in log


def test_step_results(env):
    result = env.build("FROM base:1\nWORKDIR /app\nENV A=1\nRUN echo x > f\n")
    assert [(s.index, s.total, s.instruction, s.cached) for s in result.steps] == [
        (1, 3, "FROM docker.io/library/base:1", False), (2, 3, "WORKDIR /app", False),
        (3, 3, "RUN echo x > f", False)]
    assert result.steps[2].layer_size == 2


def test_step_numbers_pad_like_buildkit_with_ten_or_more_steps(env):
    result = env.build("FROM base:1\n" + "".join(f"RUN echo {i} > /f{i}\n" for i in range(9)))
    assert "[ 1/10] FROM" in result.log and "[10/10] RUN echo 8 > /f8" in result.log


def test_run_duration_comes_from_the_simulated_clock(env):
    result = env.build("FROM base:1\nRUN sleep 2 && echo done\n")
    assert "#5 DONE 2.0s" in result.log
    assert result.steps[-1].seconds == 2.0 and env.loop.now == 2.0


def test_same_inputs_give_the_same_image_id_in_another_store():
    a, b = Env(), Env()
    for e in (a, b):
        e.write("app.py", "print(1)\n")
    df = "FROM base:1\nCOPY app.py /app/\nRUN echo built > /app/built\nCMD [\"python\", \"/app/app.py\"]\n"
    assert a.build(df).image.id == b.build(df).image.id


# -- RUN ------------------------------------------------------------------------------------------
def test_run_shell_form_uses_bin_sh_c(env):
    result = env.build("FROM base:1\nRUN echo hi > /hello.txt\n")
    assert env.calls[0][0] == ["/bin/sh", "-c", "echo hi > /hello.txt"]
    assert env.fs(result.image).read("/hello.txt") == b"hi\n"
    assert result.image.history[-1]["created_by"] == "RUN /bin/sh -c echo hi > /hello.txt # buildkit"


def test_run_exec_form_runs_argv_as_written(env):
    env.build('FROM base:1\nRUN ["/bin/sh", "-c", "echo a > /a"]\n')
    assert env.calls[0][0] == ["/bin/sh", "-c", "echo a > /a"]


def test_shell_instruction_changes_the_run_wrapper(env):
    result = env.build('FROM base:1\nSHELL ["/bin/sh", "-x"]\nRUN echo hi\n')
    assert env.calls[0][0] == ["/bin/sh", "-x", "echo hi"]
    assert result.image.config.shell == ("/bin/sh", "-x")
    assert result.image.history[-2]["created_by"] == "SHELL [/bin/sh -x]"


def test_run_sees_env_and_args_but_args_stay_out_of_the_image(env):
    result = env.build("FROM base:1\nARG VERSION=1.0\nENV MODE=prod\nRUN printenv VERSION && printenv MODE\n")
    _, run_env, _, _ = env.calls[0]
    assert run_env["VERSION"] == "1.0" and run_env["MODE"] == "prod"
    assert "#5 0.000 1.0\n#5 0.000 prod" in result.log
    assert "VERSION" not in result.image.config.env_dict()
    assert result.image.history[-1]["created_by"] == "RUN |1 VERSION=1.0 /bin/sh -c printenv VERSION && " \
                                                     "printenv MODE # buildkit"


def test_kernel_runner_sets_home_from_passwd(env):
    result = env.build("FROM base:1\nRUN printenv HOME\nUSER app\nRUN printenv HOME\n")
    assert "#5 0.000 /root" in result.log and "#6 0.000 /home/app" in result.log


def test_env_overrides_an_arg_of_the_same_name(env):
    env.build("FROM base:1\nARG X=arg\nENV X=env\nRUN printenv X\n")
    assert env.calls[0][1]["X"] == "env"


def test_run_as_user_and_in_workdir(env):
    result = env.build("FROM base:1\nWORKDIR /srv\nUSER app\nRUN id -u && pwd\n")
    assert env.calls[0][2:] == ("/srv", "app")
    assert "#6 0.000 1000\n#6 0.000 /srv\n" in result.log


def test_run_that_changes_nothing_makes_no_layer(env):
    result = env.build("FROM base:1\nRUN true\n")
    assert len(result.image.layers) == 1
    assert result.image.history[-1]["empty_layer"] is True


def test_run_deleting_a_base_file_makes_a_whiteout(env):
    result = env.build("FROM base:1\nRUN rm -rf /etc/group\n")
    assert result.image.layers[-1].entries["/etc/group"] == Entry.whiteout()
    assert not env.fs(result.image).exists("/etc/group")


def test_failed_run_raises_buildkits_message(env):
    with pytest.raises(BuildError) as exc:
        env.build("FROM base:1\nRUN echo about to fail && exit 3\n", tags=["bad:1"])
    err = exc.value
    assert err.message == 'process "/bin/sh -c echo about to fail && exit 3" did not complete successfully: exit code: 3'
    log = err.build_log
    assert "#5 ERROR: process" in log
    assert " > [2/2] RUN echo about to fail && exit 3:" in log
    assert "   2 | >>> RUN echo about to fail && exit 3" in log
    assert log.endswith(f"ERROR: failed to solve: {err.message}\n")


def test_failed_build_leaves_the_store_unchanged(env):
    env.write("app.py", "v1")
    env.build("FROM base:1\nCOPY app.py /\n", tags=["app:1"])
    before = env.snapshot()
    with pytest.raises(BuildError):
        env.build("FROM base:1\nCOPY app.py /\nRUN echo more > /more\nRUN exit 1\n", tags=["app:1", "app:2"])
    assert env.snapshot() == before


def test_unknown_command_in_run_fails_with_127(env):
    with pytest.raises(BuildError, match="exit code: 127") as exc:
        env.build("FROM base:1\nRUN nosuchtool --version\n")
    assert "nosuchtool: not found" in exc.value.build_log


def test_run_in_scratch_has_no_shell(env):
    with pytest.raises(BuildError, match='exec: "/bin/sh": stat /bin/sh: no such file or directory'):
        env.build("FROM scratch\nRUN echo hi\n")


# -- metadata instructions ------------------------------------------------------------------------------
def test_metadata_instructions_make_no_layers(env):
    result = env.build("FROM base:1\nENV A=1\nLABEL a=b\nEXPOSE 80\nCMD [\"x\"]\nUSER app\nSTOPSIGNAL SIGTERM\n")
    assert result.image.layers == base_image().layers
    assert all(h.get("empty_layer") for h in result.image.history[1:])
    assert all(h["comment"] == "buildkit.dockerfile.v0" for h in result.image.history)


def test_env_sets_config_and_substitutes_later(env):
    result = env.build("FROM base:1\nENV APP=/srv/app NAME=demo\nWORKDIR $APP\nLABEL name=${NAME}\n")
    cfg = result.image.config
    assert cfg.env_dict()["APP"] == "/srv/app" and cfg.working_dir == "/srv/app"
    assert cfg.labels == {"name": "demo"}
    assert result.image.history[1]["created_by"] == "ENV APP=/srv/app NAME=demo"


def test_env_replaces_an_inherited_variable_in_place(env):
    result = env.build("FROM base:1\nENV PATH=/opt/bin:$PATH\n")
    assert result.image.config.env == ("PATH=/opt/bin:/usr/local/bin:/usr/bin:/bin",)


def test_label_expose_volume_user_stopsignal(env):
    result = env.build("FROM base:1\nLABEL maintainer=me version=\"1.0\"\nEXPOSE 80 443/tcp 53/udp\n"
                       "VOLUME /data\nUSER app:staff\nSTOPSIGNAL SIGQUIT\n")
    cfg = result.image.config
    assert cfg.labels == {"maintainer": "me", "version": "1.0"}
    assert cfg.exposed_ports == ("443/tcp", "53/udp", "80/tcp")
    assert cfg.volumes == ("/data",) and cfg.user == "app:staff" and cfg.stop_signal == "SIGQUIT"
    by = [h["created_by"] for h in result.image.history[1:]]
    assert by == ["LABEL maintainer=me version=1.0", "EXPOSE map[443/tcp:{} 53/udp:{} 80/tcp:{}]",
                  "VOLUME [/data]", "USER app:staff", "STOPSIGNAL SIGQUIT"]


def test_cmd_shell_form_is_wrapped_and_history_uses_go_quoting(env):
    result = env.build('FROM base:1\nCMD nginx -g "daemon off;"\n')
    assert result.image.config.cmd == ("/bin/sh", "-c", 'nginx -g "daemon off;"')
    assert result.image.history[-1]["created_by"] == 'CMD ["/bin/sh" "-c" "nginx -g \\"daemon off;\\""]'


def test_cmd_exec_form_history(env):
    result = env.build('FROM base:1\nCMD ["nginx", "-g", "daemon off;"]\n')
    assert result.image.history[-1]["created_by"] == 'CMD ["nginx" "-g" "daemon off;"]'
    assert result.image.config.args_escaped  # BuildKit marks ArgsEscaped with every CMD
    assert '"ArgsEscaped":true' in result.image.config_json.decode()


def test_run_step_name_keeps_quotes_and_unknown_variables(env):
    result = env.build('FROM base:1\nARG V=7\nRUN echo "v=$V" \'$V\' $HOME_UNSET > /f\n')
    assert "[2/2] RUN echo \"v=7\" '$V' $HOME_UNSET > /f" in result.log


def test_copy_and_workdir_step_names_substitute_variables(env):
    env.write("app.py", "x")
    result = env.build("FROM base:1\nENV DIR=/srv\nWORKDIR $DIR\nCOPY app.py $DIR/\n")
    assert "[2/3] WORKDIR /srv" in result.log and "[3/3] COPY app.py /srv/" in result.log


def test_a_single_named_stage_shows_no_name(env):
    assert "[1/2] FROM" in env.build("FROM base:1 AS only\nRUN true\n").log


def test_entrypoint_resets_an_inherited_cmd(env):
    result = env.build('FROM base:1\nENTRYPOINT ["python"]\n')
    assert result.image.config.entrypoint == ("python",) and result.image.config.cmd is None


def test_entrypoint_keeps_a_cmd_of_the_same_stage(env):
    result = env.build('FROM base:1\nCMD ["app.py"]\nENTRYPOINT ["python"]\n')
    assert result.image.config.cmd == ("app.py",)


def test_healthcheck_in_config_and_history(env):
    result = env.build("FROM base:1\nHEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD curl -f http://localhost/\n")
    assert result.image.config.healthcheck == {"Test": ["CMD-SHELL", "curl -f http://localhost/"],
                                               "Interval": 30_000_000_000, "Timeout": 3_000_000_000, "Retries": 3}
    assert result.image.history[-1]["created_by"] == \
        'HEALTHCHECK &{["CMD-SHELL" "curl -f http://localhost/"] "30s" "3s" "0s" "0s" \'\\x03\'}'


def test_onbuild_is_stored_not_run(env):
    result = env.build("FROM base:1\nONBUILD RUN echo triggered > /trigger\n", tags=["parent:1"])
    assert result.image.config.onbuild == ("RUN echo triggered > /trigger",)
    assert env.calls == []
    assert result.image.history == base_image().history  # BuildKit records no history for ONBUILD


def test_onbuild_triggers_run_in_the_child_build(env):
    env.build("FROM base:1\nONBUILD RUN echo triggered > /trigger\n", tags=["parent:1"])
    child = env.build("FROM parent:1\nCMD [\"sh\"]\n")
    assert env.fs(child.image).read("/trigger") == b"triggered\n"
    assert child.image.config.onbuild == ()
    assert "[2/2] RUN echo triggered > /trigger" in child.log


# -- WORKDIR -------------------------------------------------------------------------------------------
def test_workdir_creates_the_directory_in_a_layer(env):
    result = env.build("FROM base:1\nWORKDIR /srv\nWORKDIR app\n")
    assert result.image.config.working_dir == "/srv/app"
    assert env.fs(result.image).is_dir("/srv/app")
    assert [h["created_by"] for h in result.image.history[1:]] == ["WORKDIR /srv", "WORKDIR /srv/app"]


def test_workdir_of_an_existing_directory_makes_no_layer(env):
    result = env.build("FROM base:1\nWORKDIR /tmp\n")
    assert len(result.image.layers) == 1 and result.image.history[-1]["empty_layer"]


def test_workdir_is_owned_by_the_current_user(env):
    result = env.build("FROM base:1\nUSER app\nWORKDIR /home/app/work\n")
    assert env.fs(result.image).stat("/home/app/work").uid == 1000


# -- COPY / ADD ----------------------------------------------------------------------------------------
def test_copy_file_into_a_directory(env):
    env.write("app.py", "print(1)\n")
    result = env.build("FROM base:1\nCOPY app.py /app/\n")
    fs = env.fs(result.image)
    assert fs.read("/app/app.py") == b"print(1)\n"
    entry = fs.stat("/app/app.py")
    assert (entry.uid, entry.gid, entry.mode) == (0, 0, 0o644)  # context owner dropped, mode kept
    assert result.image.history[-1]["created_by"] == "COPY app.py /app/ # buildkit"


def test_copy_to_a_new_file_name(env):
    env.write("app.py", "x")
    result = env.build("FROM base:1\nCOPY app.py /srv/main.py\n")
    assert env.fs(result.image).read("/srv/main.py") == b"x"


def test_copy_relative_destination_uses_workdir(env):
    env.write("app.py", "x")
    result = env.build("FROM base:1\nWORKDIR /app\nCOPY app.py .\n")
    assert env.fs(result.image).is_file("/app/app.py")


def test_copy_directory_copies_its_contents(env):
    env.write("src/a.py", "a")
    env.write("src/pkg/b.py", "b")
    result = env.build("FROM base:1\nCOPY src /app\n")
    fs = env.fs(result.image)
    assert fs.read("/app/a.py") == b"a" and fs.read("/app/pkg/b.py") == b"b"
    assert not fs.exists("/app/src")


def test_copy_dot_copies_the_whole_context(env):
    env.write("a.txt", "a")
    result = env.build("FROM base:1\nWORKDIR /app\nCOPY . .\n")
    assert sorted(env.fs(result.image).listdir("/app")) == ["Dockerfile", "a.txt"]


def test_copy_glob(env):
    for name in ("a.py", "b.py", "c.txt"):
        env.write(name, name)
    result = env.build("FROM base:1\nCOPY *.py /app/\n")
    assert env.fs(result.image).listdir("/app") == ["a.py", "b.py"]


def test_copy_keeps_executable_mode_and_applies_chmod(env):
    env.write("run.sh", "#!/bin/sh\n", mode=0o755)
    env.write("conf", "c")
    result = env.build("FROM base:1\nCOPY run.sh /\nCOPY --chmod=600 conf /\n")
    fs = env.fs(result.image)
    assert fs.stat("/run.sh").mode == 0o755 and fs.stat("/conf").mode == 0o600


def test_copy_chown_by_name_and_number(env):
    env.write("a", "a")
    env.write("b", "b")
    result = env.build("FROM base:1\nCOPY --chown=app:staff a /x/\nCOPY --chown=42 b /y/\n")
    fs = env.fs(result.image)
    assert (fs.stat("/x/a").uid, fs.stat("/x/a").gid) == (1000, 50)
    assert (fs.stat("/y/b").uid, fs.stat("/y/b").gid) == (42, 42)
    assert result.image.history[-2]["created_by"] == "COPY --chown=app:staff a /x/ # buildkit"


def test_copy_chown_unknown_user_fails(env):
    env.write("a", "a")
    with pytest.raises(BuildError, match="can't find uid for user nobody2"):
        env.build("FROM base:1\nCOPY --chown=nobody2 a /\n")


def test_copy_of_a_missing_file_fails_like_buildkit(env):
    with pytest.raises(BuildError) as exc:
        env.build("FROM base:1\nCOPY missing.txt /app/\n")
    assert re.fullmatch(r'failed to compute cache key: failed to calculate checksum of ref '
                        r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}::[0-9a-f]{25}: '
                        r'"/missing.txt": not found', exc.value.message)


def test_copy_of_several_files_needs_a_directory_destination(env):
    env.write("a", "a")
    env.write("b", "b")
    with pytest.raises(BuildError, match="destination must be a directory and end with a /"):
        env.build("FROM base:1\nCOPY a b /dest\n")


def test_copy_heredoc(env):
    result = env.build("FROM base:1\nCOPY <<EOF /etc/motd\nhello\nEOF\n")
    assert env.fs(result.image).read("/etc/motd") == b"hello\n"


def test_dockerignore_excludes_files(env):
    env.write("app.py", "x")
    env.write("secret.env", "TOKEN=1")
    env.write("logs/a.log", "l")
    env.write("keep.log", "k")
    env.write(".dockerignore", "*.env\nlogs\n*.log\n!keep.log\n")
    result = env.build("FROM base:1\nCOPY . /app/\n")
    assert env.fs(result.image).listdir("/app") == [".dockerignore", "Dockerfile", "app.py", "keep.log"]
    with pytest.raises(BuildError, match='"/secret.env": not found'):
        env.build("FROM base:1\nCOPY secret.env /\n")


def test_dockerignore_matcher_rules():
    excluded = dockerignore_matcher("# comment\n/build\n**/*.pyc\n!important.pyc\n")
    assert excluded("build/out.o") and excluded("a/b/c.pyc") and not excluded("important.pyc")
    assert not excluded("src/build.py")


def test_add_extracts_a_local_tar_archive(env):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("pkg/a.txt", b"A"), ("pkg/b.txt", b"B")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    env.write("pkg.tar.gz", gzip.compress(buf.getvalue()))
    result = env.build("FROM base:1\nADD pkg.tar.gz /opt/\n")
    fs = env.fs(result.image)
    assert fs.read("/opt/pkg/a.txt") == b"A" and not fs.exists("/opt/pkg.tar.gz")


def test_add_plain_file_is_copied(env):
    env.write("a.txt", "A")
    result = env.build("FROM base:1\nADD a.txt /opt/\n")
    assert env.fs(result.image).read("/opt/a.txt") == b"A"


def test_add_url_uses_fetch(env):
    env.builder.fetch = lambda url: b"downloaded from " + url.encode()
    result = env.build("FROM base:1\nADD https://example.com/files/tool.sh /usr/local/bin/\n")
    entry = env.fs(result.image).stat("/usr/local/bin/tool.sh")
    assert entry.data == b"downloaded from https://example.com/files/tool.sh" and entry.mode == 0o600


# -- the build cache ---------------------------------------------------------------------------------
DF = ("FROM base:1\n"
      "WORKDIR /app\n"
      "COPY requirements.txt .\n"
      "RUN echo installed > /app/deps\n"
      "COPY app.py .\n"
      "RUN echo built > /app/out\n"
      "CMD [\"python\", \"app.py\"]\n")


def cached_flags(result) -> list[bool]:
    return [s.cached for s in result.steps[1:]]


@pytest.fixture
def project(env) -> Env:
    env.write("requirements.txt", "flask\n")
    env.write("app.py", "print(1)\n")
    return env


def test_rebuild_is_fully_cached_and_gives_the_same_id_later(project):
    first = project.build(DF, tags=["app:1"])
    project.clock.minute = 30
    again = project.build(DF, tags=["app:1"])
    assert cached_flags(again) == [True] * 5 and again.cache_hits == 5
    assert again.image.id == first.image.id
    assert "#5 [2/6] WORKDIR /app\n#5 CACHED" in again.log
    assert len(project.calls) == 2  # the two RUNs ran once


def test_changing_a_copied_file_rebuilds_that_step_and_later_ones(project):
    project.build(DF)
    project.write("app.py", "print(2)\n")
    again = project.build(DF)
    assert cached_flags(again) == [True, True, True, False, False]
    assert len(project.calls) == 3


def test_changing_a_file_mode_invalidates_the_copy(project):
    project.build(DF)
    project.ctx.chmod("/ctx/app.py", 0o755)
    assert cached_flags(project.build(DF)) == [True, True, True, False, False]


def test_changing_an_early_file_rebuilds_everything_after_it(project):
    project.build(DF)
    project.write("requirements.txt", "flask\nrequests\n")
    assert cached_flags(project.build(DF)) == [True, False, False, False, False]


def test_comments_and_blank_lines_do_not_break_the_cache(project):
    project.build(DF)
    again = project.build("# a comment\n\n" + DF.replace("RUN echo built", "# why\nRUN echo built"))
    assert cached_flags(again) == [True] * 5


def test_changing_a_run_command_rebuilds_it(project):
    project.build(DF)
    again = project.build(DF.replace("echo built", "echo rebuilt"))
    assert cached_flags(again) == [True, True, True, True, False]


def test_a_label_change_keeps_the_layers_cached_but_changes_the_id(project):
    first = project.build(DF)
    again = project.build(DF + "LABEL version=2\n")
    assert cached_flags(again) == [True] * 5
    assert again.image.layers == first.image.layers and again.image.id != first.image.id


def test_an_env_change_before_run_invalidates_it(project):
    project.build(DF)
    again = project.build(DF.replace("WORKDIR /app\n", "WORKDIR /app\nENV MODE=debug\n"))
    assert cached_flags(again) == [True, True, False, False, False]


def test_a_build_arg_used_by_run_invalidates_it(project):
    df = "FROM base:1\nARG V=1\nRUN echo $V > /v\n"
    project.build(df)
    assert cached_flags(project.build(df)) == [True]
    assert cached_flags(project.build(df, build_args={"V": "2"})) == [False]


def test_no_cache_runs_every_step(project):
    first = project.build(DF)
    again = project.build(DF, no_cache=True)
    assert cached_flags(again) == [False] * 5 and again.cache_hits == 0
    assert again.image.layers == first.image.layers  # same content, same diff ids
    assert len(project.calls) == 4


def test_cache_is_shared_by_builders_of_the_same_store(project):
    project.build(DF)
    other = Builder(project.store, runner=None, now="2025-03-03T12:00:00Z")
    project.write("Dockerfile", DF)
    assert all(s.cached for s in other.build(project.ctx, "/ctx").steps[1:])


def test_builder_prune_forgets_the_cache(project):
    project.build(DF)
    assert project.builder.prune_cache() == 5
    assert cached_flags(project.build(DF)) == [False] * 5


def test_cached_history_keeps_the_original_times(project):
    first = project.build(DF)
    project.clock.minute = 45
    project.write("app.py", "print(3)\n")
    again = project.build(DF)
    created = [h["created"] for h in again.image.history[1:]]
    assert created[:3] == [h["created"] for h in first.image.history[1:4]]
    assert created[3:] == ["2025-03-03T10:45:00Z"] * 3
    assert again.image.created == "2025-03-03T10:45:00Z"


def test_metadata_only_image_takes_the_base_creation_time(env):
    result = env.build("FROM base:1\nCMD [\"sh\"]\n")
    assert result.image.created == T_BASE


# -- ARG scoping and build args ------------------------------------------------------------------------
def test_global_arg_is_only_visible_in_from(env):
    env.store.tag("base:1", "base:2")
    result = env.build("ARG TAG=2\nFROM base:$TAG\nRUN printenv TAG\n")
    assert "TAG" not in env.calls[0][1]
    assert "[1/2] FROM docker.io/library/base:2" in result.log


def test_global_arg_redeclared_in_the_stage(env):
    env.build("ARG TAG=1\nFROM base:$TAG\nARG TAG\nRUN printenv TAG\n")
    assert env.calls[0][1]["TAG"] == "1"


def test_build_arg_overrides_a_default(env):
    env.build("FROM base:1\nARG V=default\nRUN printenv V\n", build_args={"V": "given"})
    assert env.calls[0][1]["V"] == "given"


def test_unused_build_arg_warning(env):
    result = env.build("FROM base:1\nARG USED\n", build_args={"USED": "1", "NOPE": "2", "HTTP_PROXY": "x"})
    assert "[Warning] One or more build-args [NOPE] were not consumed" in result.warnings
    assert result.log.rstrip().endswith("[Warning] One or more build-args [NOPE] were not consumed")


def test_lint_warnings_are_reported(env):
    result = env.build("FROM base:1\nCMD echo hi\n")
    assert any(w.startswith("JSONArgsRecommended") for w in result.warnings)
    assert "1 warning found (use docker --debug to expand):" in result.log


# -- multi-stage -----------------------------------------------------------------------------------------
MULTI = ("FROM base:1 AS build\n"
         "WORKDIR /src\n"
         "RUN echo binary > /src/app.bin\n"
         "FROM base:1 AS test\n"
         "RUN exit 1\n"
         "FROM scratch\n"
         "COPY --from=build /src/app.bin /app\n"
         "CMD [\"/app\"]\n")


def test_multi_stage_copies_from_an_earlier_stage(env):
    result = env.build(MULTI, tags=["app:1"])
    fs = env.fs(result.image)
    assert fs.read("/app") == b"binary\n"
    assert len(result.image.layers) == 1  # only the final stage's layers
    assert result.image.history[-2]["created_by"] == "COPY /src/app.bin /app # buildkit"


def test_stages_the_target_does_not_need_are_skipped(env):
    result = env.build(MULTI)  # the failing "test" stage is never built
    assert "[build 3/3] RUN echo binary > /src/app.bin" in result.log
    assert "[stage-2 2/2] COPY --from=build /src/app.bin /app" in result.log
    assert "exit 1" not in result.log


def test_target_builds_an_intermediate_stage(env):
    result = env.build(MULTI, target="build", tags=["app:build"])
    assert env.fs(result.image).is_file("/src/app.bin")
    with pytest.raises(BuildError, match="did not complete successfully: exit code: 1"):
        env.build(MULTI, target="test")


def test_unknown_target(env):
    with pytest.raises(BuildError, match='target stage "nope" could not be found'):
        env.build(MULTI, target="nope")


def test_stage_based_on_a_stage_keeps_its_args(env):
    env.build("FROM base:1 AS one\nARG V=1\nFROM one\nRUN printenv V\n")
    assert env.calls[0][1]["V"] == "1"


def test_stage_based_on_an_earlier_stage(env):
    result = env.build("FROM base:1 AS one\nENV A=1\nRUN echo 1 > /one\nFROM one\nRUN echo 2 > /two\n")
    fs = env.fs(result.image)
    assert fs.is_file("/one") and fs.is_file("/two") and result.image.config.env_dict()["A"] == "1"


def test_copy_from_an_image(env):
    other = Image(ImageConfig()).add_layer({"/tool": Entry.file(b"tool", mode=0o755)}, "ADD tool /", T_BASE)
    env.store.add(other, tags=["tools:1"])
    result = env.build("FROM base:1\nCOPY --from=tools:1 /tool /usr/local/bin/\n")
    assert env.fs(result.image).stat("/usr/local/bin/tool").mode == 0o755


def test_from_scratch_gets_the_default_path(env):
    env.write("hello", "hi")
    result = env.build("FROM scratch\nCOPY hello /\n")
    assert result.image.config.env == (f"PATH={DEFAULT_PATH}",)
    assert [l.entries for l in result.image.layers][0]["/hello"].data == b"hi"
    assert "FROM scratch" not in result.log and "[2/2] COPY hello /" in result.log


# -- base images -------------------------------------------------------------------------------------
def test_missing_base_image_is_pulled(env):
    env.remote["docker.io/library/python:3.12"] = base_image().with_config(cmd=("python3",))
    result = env.build("FROM python:3.12\nRUN true\n")
    assert env.pulled == ["docker.io/library/python:3.12"]
    assert result.image.config.cmd == ("python3",)


def test_base_image_that_cannot_be_pulled(env):
    with pytest.raises(BuildError) as exc:
        env.build("FROM nosuch:1\n")
    assert exc.value.message.startswith("nosuch:1: failed to resolve source metadata for docker.io/library/nosuch:1:")
    assert "#2 ERROR:" in exc.value.build_log


def test_from_with_nothing_else_is_the_base_image(env):
    assert env.build("FROM base:1\n").image.id == base_image().id


# -- errors before any step -------------------------------------------------------------------------------
def test_parse_errors_propagate(env):
    before = env.snapshot()
    with pytest.raises(DockerfileParseError, match="unknown instruction: RUNN"):
        env.build("FROM base:1\nRUNN echo\n")
    assert env.snapshot() == before


def test_missing_dockerfile(env):
    with pytest.raises(BuildError, match="failed to read dockerfile: open Dockerfile: no such file or directory"):
        env.builder.build(env.ctx, "/ctx")


def test_dockerfile_text_and_another_name(env):
    env.write("build/Prod.Dockerfile", "FROM base:1\nLABEL env=prod\n")
    result = env.builder.build(env.ctx, "/ctx", dockerfile="build/Prod.Dockerfile")
    assert result.image.config.labels == {"env": "prod"}
    assert "load build definition from Prod.Dockerfile" in result.log
    assert env.builder.build(dockerfile_text="FROM base:1\nLABEL a=b\n").image.config.labels == {"a": "b"}


# -- docker history -------------------------------------------------------------------------------------
def test_history_rows(env):
    env.write("app.py", "x" * 5243)
    result = env.build("FROM base:1\nCOPY app.py /app/\nRUN echo a very long command that goes on and on > /f\n"
                       "CMD [\"sh\"]\n")
    rows = history_rows(result.image)
    assert rows[0].image == result.image.short_id and all(r.image == "<missing>" for r in rows[1:])
    assert [r.size_human for r in rows] == ["0B", "40B", "5.24kB", human(base_image().size)]
    assert rows[1].created_by == "RUN /bin/sh -c echo a very long command that…"
    assert len(rows[1].created_by) == 45 and rows[1].comment == "buildkit.dockerfile.v0"
    full = env.builder.history("sha256:" + result.image.id[7:], no_trunc=True)
    assert full[0].image == result.image.id and full[1].created_by.endswith("> /f # buildkit")


def human(n: int) -> str:
    from aivle_k8s.images.image import human_size

    return human_size(n)


# -- property: builds succeed or fail cleanly ---------------------------------------------------------------
_word = st.sampled_from(["alpha", "beta", "x1", "data"])
_instruction = st.one_of(
    st.builds(lambda w: f"RUN echo {w} > /{w}", _word),
    st.builds(lambda c: f"RUN exit {c}", st.integers(0, 2)),
    st.builds(lambda w: f"RUN mkdir -p /d/{w}", _word),
    st.builds(lambda w: f"RUN rm -rf /{w}", _word),
    st.builds(lambda w: f"ENV {w.upper()}={w}", _word),
    st.builds(lambda w: f"ARG {w.upper()}={w}", _word),
    st.builds(lambda w: f"LABEL {w}={w}", _word),
    st.builds(lambda w: f"WORKDIR /{w}", _word),
    st.builds(lambda w: f"COPY {w}.txt /files/", _word),
    st.builds(lambda w: f"COPY {w}* /globbed/", _word),
    st.builds(lambda p: f"EXPOSE {p}", st.integers(1, 65535)),
    st.builds(lambda w: f'CMD ["{w}"]', _word),
    st.builds(lambda w: f"USER {w}", st.sampled_from(["root", "app", "0"])),
    st.just("VOLUME /data"),
    st.just("RUNN broken"),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(_instruction, max_size=6), base=st.sampled_from(["base:1", "scratch"]),
       two_stages=st.booleans())
def test_random_dockerfiles_build_or_fail_cleanly(body, base, two_stages):
    e = Env()
    for name in ("alpha", "beta"):
        e.write(f"{name}.txt", name)
    e.build("FROM base:1\nCMD [\"sh\"]\n", tags=["app:1"])
    before = e.snapshot()
    lines = [f"FROM {base} AS first", *body]
    if two_stages:
        lines += ["FROM base:1", "COPY --from=first / /from-first/"]
    try:
        result = e.build("\n".join(lines) + "\n", tags=["app:1"])
    except (BuildError, DockerfileParseError):
        assert e.snapshot() == before
    else:
        assert e.store.get("app:1").id == result.image.id
        assert result.image.id == "sha256:" + __import__("hashlib").sha256(result.image.config_json).hexdigest()
