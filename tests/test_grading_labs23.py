"""The checks of lab 2 (monolith vs microservices) and lab 3 (Dockerfile and images).

Each step passes on the state the solution notebook reaches and says what to do on each wrong one.
Step names are the grade_ids of the notebooks' answer cells.
"""

import json
from pathlib import Path

import pytest

from aivle_k8s.grading import Feedback, assert_step, check, steps
from aivle_k8s.grading.lab2 import SERVICES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def docker_host(host):
    host.sh("sudo apt-get install -y docker.io")
    return host


def messages(fb: Feedback) -> str:
    return "\n".join(fb.messages)


def grade_ids(lab: str) -> list[str]:
    nb = json.loads((ROOT / "solutions" / lab / f"{lab}.ipynb").read_text())
    return [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")]


@pytest.mark.parametrize("lab, folder", [("lab2", "lab2-microservices"), ("lab3", "lab3-dockerfile")])
def test_the_steps_are_the_notebooks_answer_cells(lab, folder):
    assert steps(lab) == grade_ids(folder)


# -- lab 2: the monolith ---------------------------------------------------------------------------
def test_run_monolith(world, docker_host):
    assert "there is no container named shop on host: start it with `docker run -d --name shop -p 8080:8080 " \
           "aivle/monolith`" == messages(check("lab2", "run_monolith", world=world))
    docker_host.sh("docker run -d --name shop aivle/monolith")
    assert "shop does not publish port 8080" in messages(check("lab2", "run_monolith", world=world))
    docker_host.sh("docker rm -f shop")
    docker_host.sh("docker run -d --name shop -p 8080:8080 busybox sleep 600")
    assert "the container shop runs busybox, not aivle/monolith" in messages(check("lab2", "run_monolith", world=world))
    docker_host.sh("docker rm -f shop")
    docker_host.sh("docker run -d --name shop -p 8080:8080 aivle/monolith")
    fb = check("lab2", "run_monolith", world=world)
    assert fb, fb
    assert "users, orders, payments all answer" in messages(fb)


def test_crash_monolith_needs_the_crash_and_the_true_observation(world, docker_host):
    docker_host.sh("docker run -d --name shop -p 8080:8080 aivle/monolith")
    assert "shop is still running: trigger the bug" in messages(check("lab2", "crash_monolith", world=world, up=[]))
    docker_host.sh("curl -s http://localhost:8080/payments/crash")
    world.advance(1)
    assert "set monolith_up" in messages(check("lab2", "crash_monolith", world=world))
    fb = check("lab2", "crash_monolith", world=world, up=["users", "orders"])
    assert "the modules answering now are []" in messages(fb)
    assert check("lab2", "crash_monolith", world=world, up=[])
    assert "is still running" not in messages(check("lab2", "run_monolith", world=world))
    assert "shop is exited (exit code 1)" in messages(check("lab2", "run_monolith", world=world))


def test_a_stopped_monolith_did_not_crash(world, docker_host):
    docker_host.sh("docker run -d --name shop -p 8080:8080 aivle/monolith")
    docker_host.sh("docker stop shop")
    fb = check("lab2", "crash_monolith", world=world, up=[])
    assert "shop was stopped (exit code 137: a signal, or a clean exit), it did not crash" in messages(fb)


# -- lab 2: microservices --------------------------------------------------------------------------
def run_micro(host, *services, network="shop-net", extra=""):
    ports = {"users": 8081, "orders": 8082, "payments": 8083}
    for s in services or ports:
        assert host.sh(f"docker run -d --name {s}{extra} --network {network} -p {ports[s]}:8080 aivle/web-app "
                       f"web-app --service {s}").ok


def test_run_microservices(world, docker_host):
    assert 'there is no network "shop-net" on host: create it with `docker network create shop-net`' in \
        messages(check("lab2", "run_microservices", world=world))
    docker_host.sh("docker network create shop-net")
    docker_host.sh("docker run -d --name users -p 8081:8080 aivle/web-app web-app --service users")
    fb = check("lab2", "run_microservices", world=world)
    assert "the users container (users) is on bridge, not on shop-net" in messages(fb)
    assert "no running aivle/web-app container serves orders" in messages(fb)
    docker_host.sh("docker rm -f users")
    run_micro(docker_host)
    fb = check("lab2", "run_microservices", world=world)
    assert fb and messages(fb) == "3 services, 3 containers, one network (shop-net)"


def test_crash_microservice(world, docker_host):
    docker_host.sh("docker network create shop-net")
    run_micro(docker_host)
    assert "the payments service is still running: crash it" in \
        messages(check("lab2", "crash_microservice", world=world, up=["users", "orders"]))
    docker_host.sh("curl -s http://localhost:8083/payments/crash")
    world.advance(1)
    assert "set micro_up" in messages(check("lab2", "crash_microservice", world=world))
    assert "the services answering now are ['orders', 'users']" in \
        messages(check("lab2", "crash_microservice", world=world, up=[]))
    assert check("lab2", "crash_microservice", world=world, up=("orders", "/users"))
    docker_host.sh("docker stop orders")
    assert "the orders service is not running: the point is that it keeps running while payments is down; " \
           "`docker start orders`" in messages(check("lab2", "crash_microservice", world=world, up=["users"]))


def test_restart_policy(world, docker_host):
    docker_host.sh("docker network create shop-net")
    run_micro(docker_host)
    fb = check("lab2", "restart_policy", world=world)
    assert 'payments has the restart policy "no"' in messages(fb) and "--restart always" in messages(fb)
    docker_host.sh("docker rm -f payments")
    run_micro(docker_host, "payments", extra=" --restart on-failure")
    assert "has not been restarted yet: crash it again" in messages(check("lab2", "restart_policy", world=world))
    docker_host.sh("curl -s http://localhost:8083/payments/crash")
    world.advance(1)
    fb = check("lab2", "restart_policy", world=world)
    assert fb and messages(fb) == "payments (--restart on-failure) crashed and was restarted 1 time"


# -- lab 2: many services by hand ------------------------------------------------------------------
@pytest.fixture
def nodes(world):
    ms = [world.machine(f"node{i}") for i in (1, 2, 3)]
    for m in ms:
        m.sh("sudo apt-get install -y docker.io")
    return ms


def start_all(ms, services=SERVICES, port=8000, suffix=""):
    for m in ms:
        for i, s in enumerate(services):
            assert m.sh(f"docker run -d --name {s}{suffix} --restart always --label service={s} "
                        f"-p {port + i}:8080 aivle/web-app").ok


def test_many_by_hand(world, nodes):
    fb = check("lab2", "many_by_hand", world=world)
    assert "30 replicas missing (users on node1, orders on node1" in messages(fb)
    start_all(nodes[:2])
    assert messages(check("lab2", "many_by_hand", world=world)).startswith("10 replicas missing (users on node3, ")
    start_all(nodes[2:])
    assert messages(check("lab2", "many_by_hand", world=world)) == "30 containers started by hand, 3 machines"


def test_many_by_hand_names_a_missing_machine(world):
    world.machine("node1")
    assert 'there is no machine named "node2"' in messages(check("lab2", "many_by_hand", world=world))


def test_recover_by_hand(world, nodes):
    start_all(nodes)
    assert "power one off first" in messages(check("lab2", "recover_by_hand", world=world))
    nodes[2].power_off()
    world.advance(5)
    fb = check("lab2", "recover_by_hand", world=world)
    assert "10 services short of 3 running replicas on node1, node2: users (2/3)" in messages(fb)
    # the same port again on a machine that already runs a replica: refused
    r = nodes[0].sh("docker run -d --name users-2 --label service=users -p 8000:8080 aivle/web-app")
    assert "port is already allocated" in r.stderr
    nodes[0].sh("docker rm users-2")
    half = len(SERVICES) // 2
    start_all(nodes[:1], SERVICES[:half], port=9000, suffix="-2")
    start_all(nodes[1:2], SERVICES[half:], port=9000 + half, suffix="-2")
    fb = check("lab2", "recover_by_hand", world=world)
    assert fb and "every service has 3 replicas again on node1, node2" in messages(fb)


def test_lab2_untouched_state_fails_every_step_with_feedback(world, host):
    for s in steps("lab2"):
        fb = check("lab2", s, world=world)
        assert not fb and fb.messages and all(m for m in fb.messages), s


# -- lab 3 -----------------------------------------------------------------------------------------
APP_PY = '''from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello from app v1\\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
'''

GOOD = """FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY app.py .
EXPOSE 5000
CMD ["python3", "app.py"]
"""

SLOW = """FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
CMD ["python3", "app.py"]
"""


@pytest.fixture
def app(docker_host):
    for d in ("app", "slow"):
        docker_host.write_file(f"{d}/app.py", APP_PY)
        docker_host.write_file(f"{d}/requirements.txt", "flask==3.0.3\n")
    return docker_host


def test_write_dockerfile(world, app):
    assert "there is no file /home/student/app/Dockerfile on host" in \
        messages(check("lab3", "write_dockerfile", world=world))
    app.write_file("app/Dockerfile", "FROM nginx\nCOPPY a b\n")
    fb = check("lab3", "write_dockerfile", world=world)
    assert "does not parse: dockerfile parse error on line 2" in messages(fb)
    app.write_file("app/Dockerfile", SLOW)
    fb = check("lab3", "write_dockerfile", world=world)
    assert messages(fb) == ("/home/student/app/Dockerfile: put COPY requirements.txt, then RUN pip install ..., "
                            "then COPY app.py (in this order; step 5 shows why)")
    app.write_file("app/Dockerfile", "FROM alpine\nCOPY app.py .\n")
    text = messages(check("lab3", "write_dockerfile", world=world))
    for needle in ("starts FROM alpine", "has no WORKDIR", "does not COPY requirements.txt", "has no RUN pip install",
                   "has no CMD"):
        assert needle in text
    app.write_file("app/Dockerfile", GOOD)
    assert check("lab3", "write_dockerfile", world=world)


def test_build_image(world, app):
    app.write_file("app/Dockerfile", GOOD)
    assert "host has no image app:1: build it with `cd ~/app && docker build -t app:1 .`" == \
        messages(check("lab3", "build_image", world=world))
    assert app.sh("cd app && docker build -t app:1 .").ok
    fb = check("lab3", "build_image", world=world)
    assert fb and messages(fb).startswith("app:1 built: ") and messages(fb).endswith(", 8 layers")
    assert "has no layer with /srv/x: did you COPY it?" in \
        messages(check("lab3", "build_image", world=world, file="/srv/x"))


def test_a_pulled_image_is_not_a_build(world, docker_host):
    docker_host.sh("docker pull python:3.12-slim && docker tag python:3.12-slim app:1")
    assert "was not built there" in messages(check("lab3", "build_image", world=world))


def test_read_layers(world, app):
    app.write_file("app/Dockerfile", GOOD)
    app.sh("cd app && docker build -t app:1 .")
    made = ["WORKDIR", "COPY", "RUN", "COPY"]
    assert "set layer_count" in messages(check("lab3", "read_layers", world=world))
    assert "set my_layers" in messages(check("lab3", "read_layers", world=world, count=8))
    fb = check("lab3", "read_layers", world=world, count=4, made=made)
    assert "layer_count is 4" in messages(fb) and "the base image's layers count too" in messages(fb)
    fb = check("lab3", "read_layers", world=world, count=8, made=["WORKDIR", "COPY", "RUN", "COPY", "EXPOSE", "CMD"])
    assert "an instruction that only changes the config (ENV, EXPOSE, CMD) makes no layer" in messages(fb)
    fb = check("lab3", "read_layers", world=world, count="8", made=["workdir /app", "COPY", "RUN pip", "COPY app.py ."])
    assert fb and messages(fb) == "app:1: 8 layers; your Dockerfile added 4 (WORKDIR, COPY, RUN, COPY)"


def build_v2(host, directory="app", tag="app:2"):
    host.write_file(f"{directory}/app.py", APP_PY.replace("v1", "v2"))
    return host.sh(f"cd ~/{directory} && docker build -t {tag} .")


def test_rebuild_cached(world, app):
    app.write_file("app/Dockerfile", GOOD)
    app.sh("cd app && docker build -t app:1 .")
    assert "host has no image app:2" in messages(check("lab3", "rebuild_cached", world=world, shared=7))
    app.sh("cd ~/app && docker build -t app:2 .")
    assert "app:2 is the same image as app:1: change app.py" in \
        messages(check("lab3", "rebuild_cached", world=world, shared=7))
    r = build_v2(app)
    assert r.stderr.count(" CACHED") == 3  # BuildKit writes its progress to stderr
    assert "set shared_layers" in messages(check("lab3", "rebuild_cached", world=world))
    assert "shared_layers is 3: compare the RootFS.Layers" in \
        messages(check("lab3", "rebuild_cached", world=world, shared=3))
    fb = check("lab3", "rebuild_cached", world=world, shared=7)
    assert fb and messages(fb) == "app:2 reused 7 of 8 layers; only COPY app.py made a new one"


def test_rebuild_that_changed_the_requirements_reused_less(world, app):
    app.write_file("app/Dockerfile", GOOD)
    app.sh("cd app && docker build -t app:1 .")
    app.write_file("app/requirements.txt", "flask==3.0.3\ngunicorn\n")
    build_v2(app)
    assert "app:2 shares only 5 of its 8 layers with app:1: change only app.py" in \
        messages(check("lab3", "rebuild_cached", world=world, shared=5))


def test_cache_order(world, app):
    app.write_file("slow/Dockerfile", GOOD)
    assert "should copy the source (COPY . .) BEFORE RUN pip install" in \
        messages(check("lab3", "cache_order", world=world))
    app.write_file("slow/Dockerfile", SLOW)
    app.sh("cd ~/slow && docker build -t slow:1 .")
    app.sh("cd ~/slow && docker build -t slow:2 .")
    assert "slow:2 is the same image as slow:1" in messages(check("lab3", "cache_order", world=world))
    r = build_v2(app, "slow", "slow:2")
    assert "Collecting flask" in r.stderr and r.stderr.count(" CACHED") == 1  # only WORKDIR
    fb = check("lab3", "cache_order", world=world)
    assert fb, fb


def test_run_many(world, app):
    app.write_file("app/Dockerfile", GOOD)
    app.sh("cd app && docker build -t app:1 .")
    app.sh("docker run -d --name web1 -p 8001:5000 app:1")
    app.sh("docker run -d --name quiet app:1")
    world.advance(1)
    fb = check("lab3", "run_many", world=world)
    assert "2 containers running from app:1, expected 3" in messages(fb)
    assert "quiet publishes no port" in messages(fb)
    app.sh("docker rm -f quiet")
    for i in (2, 3):
        app.sh(f"docker run -d --name web{i} -p 800{i}:5000 app:1")
    fb = check("lab3", "run_many", world=world)
    assert fb and messages(fb) == "3 containers from one image: web1, web2, web3"


BROKEN = "FROM python:3.12-slim\nWORKDIR /app\nCOPPY app.py .\nCMD [\"python3\", \"app.py\"]\n"


def test_fix_dockerfile(world, app):
    app.write_file("hello/app.py", APP_PY)
    app.write_file("hello/Dockerfile", BROKEN)
    r = app.sh("cd ~/hello && docker build -t hello:1 .")
    assert "dockerfile parse error on line 3: unknown instruction: COPPY" in r.stderr
    assert "set error_line" in messages(check("lab3", "fix_dockerfile", world=world, broken=BROKEN))
    fb = check("lab3", "fix_dockerfile", world=world, broken=BROKEN, line=2)
    assert "error_line is 2" in messages(fb) and "/home/student/hello/Dockerfile does not parse" in messages(fb)
    app.write_file("hello/Dockerfile", BROKEN.replace("COPPY", "COPY"))
    assert "host has no image hello:1" in messages(check("lab3", "fix_dockerfile", world=world, broken=BROKEN, line=3))
    app.sh("cd ~/hello && docker build -t hello:1 .")
    fb = check("lab3", "fix_dockerfile", world=world, broken=BROKEN, line="3")
    assert fb and messages(fb).startswith("fixed: hello:1 built")


def test_lab3_untouched_state_fails_every_step_with_feedback(world, docker_host, capsys):
    for s in steps("lab3"):
        with pytest.raises(AssertionError, match=f"lab3/{s}: not yet"):
            assert_step("lab3", s, world=world)
    assert capsys.readouterr() == ("", "")


# -- the nbgrader pipeline on labs 2 and 3 ---------------------------------------------------------
LAB2, LAB3 = "lab2-microservices", "lab3-dockerfile"
FULL2 = {"test_run_monolith": 1, "test_crash_monolith": 2, "test_run_microservices": 2, "test_crash_microservice": 2,
         "test_restart_policy": 1, "test_many_by_hand": 1, "test_recover_by_hand": 1}
FULL3 = {"test_write_dockerfile": 1, "test_build_image": 2, "test_read_layers": 2, "test_rebuild_cached": 2,
         "test_cache_order": 1, "test_run_many": 1, "test_fix_dockerfile": 1}


def _notebook(folder: str, lab: str) -> dict:
    return json.loads((ROOT / folder / lab / f"{lab}.ipynb").read_text())


def _with_answer(nb: dict, grade_id: str, old: str, new: str) -> dict:
    nb = json.loads(json.dumps(nb))
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    source = "".join(cell["source"])
    assert old in source
    cell["source"] = source.replace(old, new)
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    import warnings

    from aivle_k8s.cli import Course
    from aivle_k8s.widgets import Journal

    warnings.filterwarnings("ignore", category=Warning, module="nbformat")
    base = tmp_path_factory.mktemp("pipeline23")
    subs = base / "lms-export"
    s2, s3 = _notebook("solutions", LAB2), _notebook("solutions", LAB3)
    notebooks = {
        (LAB2, "solution"): s2,
        (LAB2, "untouched"): _notebook("labs", LAB2),
        # claims the monolith kept serving: only the crash step is lost
        (LAB2, "all_up"): _with_answer(s2, "crash_monolith", "monolith_up = [m for m in MODULES if host.sh(",
                                       "monolith_up = MODULES or [m for m in MODULES if host.sh("),
        (LAB3, "solution"): s3,
        (LAB3, "untouched"): _notebook("labs", LAB3),
        # counted only the layers with a size in docker history: only the layers step is lost
        (LAB3, "miscounted"): _with_answer(s3, "read_layers",
                                           'layer_count = len(host.engine.images.get("app:1").layers)',
                                           "layer_count = 6"),
    }
    for (lab, student), nb in notebooks.items():
        (subs / student).mkdir(parents=True, exist_ok=True)
        (subs / student / f"{lab}.ipynb").write_text(json.dumps(nb))
    # the lab 3 solution student also clicked in the playground: Build, then Run
    journal = Journal(subs / "solution" / f".{LAB3}.journal.jsonl")
    journal.append("docker-playground", "build", {"dockerfile": GOOD.replace("EXPOSE 5000\n", ""), "tag": "play:1",
                                                  "context": "/home/student/play"})
    journal.append("docker-playground", "run", {"image": "play:1", "name": "play", "ports": "9000:5000"})
    course = Course.init(base / "course", solutions=ROOT / "solutions", timeout=30)
    course.release(LAB2)
    course.release(LAB3)
    course.collect(subs, LAB2)
    course.collect(subs, LAB3)
    course.graded = {(g.lab, g.student): g for g in course.autograde(LAB2) + course.autograde(LAB3)}
    return course


def test_pipeline_solutions_get_full_marks_and_untouched_zero(course):
    assert course.step_scores("solution", LAB2) == FULL2 and course.graded[(LAB2, "solution")].score == 10
    assert course.step_scores("solution", LAB3) == FULL3 and course.graded[(LAB3, "solution")].score == 10
    for lab in (LAB2, LAB3):
        assert course.graded[(lab, "untouched")].score == 0
        assert set(course.step_scores("untouched", lab).values()) == {0}


def test_pipeline_a_wrong_answer_loses_only_its_step(course):
    assert course.step_scores("all_up", LAB2) == dict(FULL2, test_crash_monolith=0)
    assert course.step_scores("miscounted", LAB3) == dict(FULL3, test_read_layers=0)


def test_pipeline_untouched_test_cells_fail_with_feedback_not_name_errors(course):
    for lab in (LAB2, LAB3):
        nb = json.loads((course.root / "autograded" / "untouched" / lab / f"{lab}.ipynb").read_text())
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if not meta.get("grade"):
                continue
            errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
            assert [e["ename"] for e in errors] == ["AssertionError"], (lab, meta["grade_id"])
            assert "not yet" in errors[0]["evalue"], (lab, meta["grade_id"])
            assert not [o for o in cell["outputs"] if o.get("name") == "stderr"], (lab, meta["grade_id"])


def test_pipeline_replays_the_playground_journal(course):
    nb = json.loads((course.root / "autograded" / "solution" / LAB3 / f"{LAB3}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "playground")
    shown = "".join("".join(o["data"]["text/plain"]) for o in cell["outputs"] if "data" in o)
    assert shown == "DockerPlayground(machine=host, images=7, containers=4)"
