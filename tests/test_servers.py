"""Servers and demo programs answering real protocol bytes over the simulated network."""

import pytest

from aivle_k8s.linux.kernel import DEFAULT_RESIDENT_MEMORY

from aivle_k8s.linux import distro, http
from aivle_k8s.linux.fs import FileSystem
from aivle_k8s.linux.kernel import Cgroup, Kernel, Namespaces, PidNamespace, Stream
from aivle_k8s.linux.net import Network
from aivle_k8s.linux.servers import resp_encode, resp_parse
from aivle_k8s.registry import catalog
from aivle_k8s.sim.clock import Loop
from aivle_k8s.sim.errors import NetworkError

PATH = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
#: The course's lab programs on top of Alpine (what the aivle/* images have).
APPS = distro.make_layer({}, programs={f"/usr/local/bin/{p}": p for p in (
    "crash", "exit-with", "cpu-hog", "mem-hog", "kv-server", "web-app", "monolith")})


class Lab:
    """One kernel, one network, containers as namespaces over image layers."""

    def __init__(self):
        self.loop = Loop()
        self.kernel = Kernel(self.loop)
        self.net = Network()
        self.client = self.net.namespace("client", ["10.0.0.2"], node="client")
        self.n = 0

    def container(self, layers, name=None, ip=None, memory=None):
        self.n += 1
        name = name or f"c{self.n}"
        fs = FileSystem(list(layers))
        netns = self.net.namespace(name, [ip or f"10.0.1.{self.n}"], node=name)
        self.net.names[name] = netns.ip
        return Namespaces(fs, name, PidNamespace(self.kernel.host_pidns, name), netns,
                          cgroup=Cgroup(name, memory_limit=memory), name=name)

    def image(self, ref, **kw):
        img = catalog.image(ref)
        return self.container(img.rootfs_layers(), **kw), img

    def spawn(self, ns, argv, env=None, cwd="/", stdin=b""):
        out, err = Stream(), Stream()
        p = self.kernel.spawn(argv, ns=ns, env={**PATH, **(env or {})}, cwd=cwd, stdout=out, stderr=err, stdin=stdin)
        p.out, p.err = out, err
        self.loop.advance(0.01)
        return p

    def run(self, ns, argv, **kw):
        p = self.spawn(ns, argv, **kw)
        self.loop.run_until(lambda: not p.alive, timeout=600)
        return p

    def get(self, url, method="GET", body=b"", src=None):
        return http.request(self.net, src or self.client, method, url, body=body)


@pytest.fixture
def lab():
    return Lab()


def nginx(lab, ip="10.0.1.80", conf=None, extra_files=None):
    ns, img = lab.image("nginx:1.25", ip=ip)
    if conf is not None:
        ns.fs.write("/etc/nginx/conf.d/default.conf", conf)
    for path, text in (extra_files or {}).items():
        ns.fs.makedirs(path.rsplit("/", 1)[0])
        ns.fs.write(path, text)
    p = lab.spawn(ns, ["nginx", "-g", "daemon off;"], env=img.config.env_dict())
    return p, ns


# -- busybox --------------------------------------------------------------------------------------
def test_busybox_runs_the_applet_named_by_its_first_argument(lab):
    ns = lab.container([distro.busybox_layer()])
    p = lab.run(ns, ["busybox", "echo", "hi"])
    assert (p.exit_code, p.out.text()) == (0, "hi\n")


def test_busybox_runs_the_applet_named_by_argv0_through_a_symlink(lab):
    ns = lab.container([distro.alpine_layer(), APPS])
    p = lab.run(ns, ["/bin/echo", "via", "symlink"])
    assert p.out.text() == "via symlink\n"


def test_busybox_lists_its_applets(lab):
    ns = lab.container([distro.busybox_layer()])
    p = lab.run(ns, ["busybox", "--list"])
    assert "echo\n" in p.out.text() and "wget\n" in p.out.text()


def test_busybox_unknown_applet_is_an_error(lab):
    ns = lab.container([distro.busybox_layer()])
    p = lab.run(ns, ["busybox", "frobnicate"])
    assert (p.exit_code, p.err.text()) == (127, "frobnicate: applet not found\n")


# -- nginx ----------------------------------------------------------------------------------------
def test_nginx_serves_the_welcome_page(lab):
    nginx(lab)
    r = lab.get("http://10.0.1.80/")
    assert r.status == 200 and "<title>Welcome to nginx!</title>" in r.text
    assert r.header("Server") == "nginx/1.25.5" and r.header("Content-Type") == "text/html"


def test_nginx_404_page_names_its_version(lab):
    nginx(lab)
    r = lab.get("http://10.0.1.80/missing.html")
    assert r.status == 404
    assert "<center><h1>404 Not Found</h1></center>" in r.text and "<hr><center>nginx/1.25.5</center>" in r.text


def test_nginx_logs_requests_in_combined_format_on_stdout(lab):
    p, _ = nginx(lab)
    lab.get("http://10.0.1.80/")
    line = p.out.text().splitlines()[-1]
    assert line == '10.0.0.2 - - [03/Mar/2025:09:00:00 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/7.81.0" "-"'


def test_nginx_startup_notices_go_to_stderr(lab):
    p, _ = nginx(lab)
    assert "[notice] 1#1: nginx/1.25.5" in p.err.text()
    assert "start worker processes" in p.err.text()


def test_nginx_image_entrypoint_announces_configuration(lab):
    ns, img = lab.image("nginx:1.25", ip="10.0.1.81")
    p = lab.spawn(ns, list(img.config.entrypoint) + list(img.config.cmd), env=img.config.env_dict())
    assert "/docker-entrypoint.sh: Configuration complete; ready for start up" in p.out.text()
    assert lab.get("http://10.0.1.81/").status == 200


@pytest.mark.parametrize("sig", ["QUIT", "TERM"])
def test_nginx_exits_0_on_quit_and_term(lab, sig):
    p, _ = nginx(lab)
    lab.kernel.signal(p.pid, sig)
    lab.loop.advance(1)
    assert p.exit_code == 0
    assert "exit\n" in p.err.text()


def test_nginx_stops_listening_when_it_ends(lab):
    p, _ = nginx(lab)
    lab.kernel.signal(p.pid, "KILL")
    with pytest.raises(NetworkError, match="Connection refused"):
        lab.get("http://10.0.1.80/")


def test_nginx_dash_v_prints_version_on_stderr(lab):
    ns, img = lab.image("nginx:1.25")
    p = lab.run(ns, ["nginx", "-v"], env=img.config.env_dict())
    assert (p.exit_code, p.out.text(), p.err.text()) == (0, "", "nginx version: nginx/1.25.5\n")


def test_nginx_dash_t_accepts_the_default_configuration(lab):
    ns, img = lab.image("nginx:1.25")
    p = lab.run(ns, ["nginx", "-t"], env=img.config.env_dict())
    assert p.exit_code == 0
    assert p.err.text() == ("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
                            "nginx: configuration file /etc/nginx/nginx.conf test is successful\n")


def test_nginx_dash_t_rejects_an_unknown_directive(lab):
    ns, img = lab.image("nginx:1.25")
    ns.fs.write("/etc/nginx/conf.d/default.conf", "server {\n    lisen 80;\n}\n")
    p = lab.run(ns, ["nginx", "-t"], env=img.config.env_dict())
    assert p.exit_code == 1
    assert p.err.text() == ('nginx: [emerg] unknown directive "lisen" in /etc/nginx/conf.d/default.conf:2\n'
                            "nginx: configuration file /etc/nginx/nginx.conf test failed\n")


def test_nginx_rejects_an_unclosed_block(lab):
    ns, img = lab.image("nginx:1.25")
    ns.fs.write("/etc/nginx/conf.d/default.conf", "server {\n    listen 80;\n")
    p = lab.run(ns, ["nginx", "-g", "daemon off;"], env=img.config.env_dict())
    assert p.exit_code == 1
    assert 'unexpected end of file, expecting "}" in /etc/nginx/conf.d/default.conf:3' in p.err.text()


def test_nginx_port_in_use_is_an_emerg(lab):
    nginx(lab)
    ns = lab.net.owner("10.0.1.80")
    assert ns is not None
    other = Namespaces(FileSystem(catalog.image("nginx:1.25").rootfs_layers()), "x", PidNamespace(lab.kernel.host_pidns, "x"), ns)
    p = lab.run(other, ["nginx", "-g", "daemon off;"], env={"NGINX_VERSION": "1.25.5"})
    assert p.exit_code == 1
    assert "nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)" in p.err.text()


def test_nginx_serves_a_custom_root_on_a_custom_port(lab):
    conf = "server {\n  listen 8080;\n  root /srv/site;\n  index index.html;\n}\n"
    nginx(lab, conf=conf, extra_files={"/srv/site/index.html": "hello site\n"})
    assert lab.get("http://10.0.1.80:8080/").text == "hello site\n"


def test_nginx_serves_files_from_a_mounted_volume(lab):
    ns, img = lab.image("nginx:1.25", ip="10.0.1.82")
    volume = FileSystem()
    volume.write("/index.html", "from the volume\n")
    ns.fs.mount("/usr/share/nginx/html", volume)
    lab.spawn(ns, ["nginx", "-g", "daemon off;"], env=img.config.env_dict())
    assert lab.get("http://10.0.1.82/").text == "from the volume\n"


def test_nginx_redirects_a_directory_without_slash(lab):
    nginx(lab, extra_files={"/usr/share/nginx/html/docs/index.html": "docs\n"})
    r = lab.get("http://10.0.1.80/docs")
    assert (r.status, r.header("Location")) == (301, "http://10.0.1.80/docs/")


def test_nginx_proxy_pass_forwards_to_another_container(lab):
    app = lab.container([distro.alpine_layer(), APPS], name="app", ip="10.0.1.90")
    lab.spawn(app, ["web-app", "--port", "5000", "--version", "3.1"])
    conf = "server {\n  listen 80;\n  location /api/ {\n    proxy_pass http://app:5000/;\n  }\n}\n"
    nginx(lab, conf=conf)
    assert lab.get("http://10.0.1.80/api/version").text == "3.1\n"


def test_nginx_upstream_round_robin(lab):
    for i, ip in enumerate(["10.0.1.91", "10.0.1.92"]):
        ns = lab.container([distro.alpine_layer(), APPS], name=f"app{i}", ip=ip)
        lab.spawn(ns, ["web-app", "--port", "5000"])
    conf = ("upstream backend {\n  server app0:5000;\n  server app1:5000;\n}\n"
            "server {\n  listen 80;\n  location / { proxy_pass http://backend; }\n}\n")
    nginx(lab, conf=conf)
    hosts = {lab.get("http://10.0.1.80/hostname").text for _ in range(4)}
    assert hosts == {"app0\n", "app1\n"}


def test_nginx_bad_gateway_when_the_upstream_is_down(lab):
    lab.net.names["app"] = "10.0.1.93"
    lab.container([distro.alpine_layer(), APPS], name="app", ip="10.0.1.93")
    conf = "server {\n  listen 80;\n  location / { proxy_pass http://app:5000; }\n}\n"
    p, _ = nginx(lab, conf=conf)
    r = lab.get("http://10.0.1.80/")
    assert r.status == 502 and "502 Bad Gateway" in r.text
    assert "connect() failed (111: Connection refused) while connecting to upstream" in p.err.text()


def test_nginx_refuses_to_start_when_an_upstream_host_is_unknown(lab):
    conf = "server {\n  listen 80;\n  location / { proxy_pass http://nowhere:5000; }\n}\n"
    p, _ = nginx(lab, conf=conf)
    assert p.exit_code == 1
    assert 'nginx: [emerg] host not found in upstream "nowhere:5000" in /etc/nginx/conf.d/default.conf:3' in p.err.text()


def test_nginx_reload_applies_a_new_configuration(lab):
    p, ns = nginx(lab)
    ns.fs.write("/etc/nginx/conf.d/default.conf", "server {\n  listen 80;\n  location / { return 200 'reloaded'; }\n}\n")
    lab.run(ns, ["nginx", "-s", "reload"], env={"NGINX_VERSION": "1.25.5"})
    assert lab.get("http://10.0.1.80/").text == "reloaded"
    assert p.alive


def test_nginx_without_daemon_off_goes_to_the_background(lab):
    ns, img = lab.image("nginx:1.25", ip="10.0.1.83")
    ns.pid = lab.kernel.host_pidns  # run on a host, not as a container's PID 1
    p = lab.run(ns, ["nginx"], env=img.config.env_dict())
    assert p.exit_code == 0
    assert lab.get("http://10.0.1.83/").status == 200


# -- httpd ----------------------------------------------------------------------------------------
def httpd(lab, argv=("httpd-foreground",)):
    ns, img = lab.image("httpd:2.4", ip="10.0.1.70")
    p = lab.spawn(ns, list(argv), env=img.config.env_dict(), cwd=img.config.working_dir)
    return p, ns


def test_httpd_says_it_works(lab):
    httpd(lab)
    r = lab.get("http://10.0.1.70/")
    assert r.text == "<html><body><h1>It works!</h1></body></html>\n"
    assert r.header("Server") == "Apache/2.4.62 (Unix)"


def test_httpd_404_is_apaches(lab):
    httpd(lab)
    r = lab.get("http://10.0.1.70/nope")
    assert r.status == 404 and "<p>The requested URL was not found on this server.</p>" in r.text


def test_httpd_logs_in_common_log_format(lab):
    p, _ = httpd(lab)
    lab.get("http://10.0.1.70/")
    assert p.out.text().splitlines()[-1] == '10.0.0.2 - - [03/Mar/2025:09:00:00 +0000] "GET / HTTP/1.1" 200 45'


def test_httpd_warns_about_servername_at_startup(lab):
    p, _ = httpd(lab)
    assert "AH00558: httpd: Could not reliably determine the server's fully qualified domain name" in p.err.text()
    assert "AH00094: Command line: 'httpd -D FOREGROUND'" in p.err.text()


def test_httpd_stops_gracefully_on_sigwinch(lab):
    p, _ = httpd(lab, ["httpd", "-DFOREGROUND"])
    lab.kernel.signal(p.pid, 28)
    lab.loop.advance(1)
    assert p.exit_code == 0 and "AH00492: caught SIGWINCH, shutting down gracefully" in p.err.text()


# -- redis ----------------------------------------------------------------------------------------
def redis(lab, data=None, ip="10.0.1.60", args=()):
    ns, img = lab.image("redis:7", name="redis", ip=ip)
    if data is not None:
        ns.fs.mount("/data", data)
    p = lab.spawn(ns, ["redis-server", *args], env=img.config.env_dict(), cwd="/data")
    return p, ns


def cli(lab, ns, *args, stdin=b""):
    return lab.run(ns, ["redis-cli", *args], stdin=stdin)


def test_resp_round_trip():
    cmds, rest = resp_parse(resp_encode(["SET", "k", "v v"]) + b"PING\r\n")
    assert (cmds, rest) == ([["SET", "k", "v v"], ["PING"]], b"")


def test_redis_answers_ping_over_the_network(lab):
    redis(lab)
    raw = lab.net.request(lab.client, "10.0.1.60", 6379, b"PING\r\n")
    assert raw == b"+PONG\r\n"


def test_redis_set_get_incr_del(lab):
    _, ns = redis(lab)
    assert cli(lab, ns, "SET", "greeting", "hello").out.text() == "OK\n"
    assert cli(lab, ns, "GET", "greeting").out.text() == "hello\n"
    assert cli(lab, ns, "INCR", "hits").out.text() == "1\n"
    assert cli(lab, ns, "INCR", "hits").out.text() == "2\n"
    assert cli(lab, ns, "DEL", "greeting", "nothing").out.text() == "1\n"
    assert cli(lab, ns, "KEYS", "*").out.text() == "hits\n"
    assert cli(lab, ns, "DBSIZE").out.text() == "1\n"


def test_redis_expire_uses_simulated_time(lab):
    _, ns = redis(lab)
    cli(lab, ns, "SET", "session", "x")
    cli(lab, ns, "EXPIRE", "session", "10")
    assert cli(lab, ns, "TTL", "session").out.text() == "10\n"
    lab.loop.advance(11)
    assert cli(lab, ns, "GET", "session").out.text() == "\n"
    assert cli(lab, ns, "TTL", "session").out.text() == "-2\n"


def test_redis_errors_have_redis_words(lab):
    _, ns = redis(lab)
    cli(lab, ns, "SET", "s", "abc")
    assert cli(lab, ns, "INCR", "s").out.text() == "ERR value is not an integer or out of range\n"
    assert cli(lab, ns, "LPUSH", "s", "x").out.text() == "WRONGTYPE Operation against a key holding the wrong kind of value\n"
    assert cli(lab, ns, "GET").out.text() == "ERR wrong number of arguments for 'get' command\n"
    assert cli(lab, ns, "FOO", "bar").out.text() == "ERR unknown command 'FOO', with args beginning with: 'bar' \n"


def test_redis_cli_reads_commands_from_stdin(lab):
    _, ns = redis(lab)
    p = cli(lab, ns, stdin=b"SET a 1\nINCR a\n")
    assert p.out.text() == "OK\n2\n"


def test_redis_cli_reports_a_refused_connection(lab):
    ns = lab.container(catalog.image("redis:7").rootfs_layers())
    p = cli(lab, ns, "-h", "127.0.0.1", "PING")
    assert (p.exit_code, p.err.text()) == (1, "Could not connect to Redis at 127.0.0.1:6379: Connection refused\n")


def test_redis_save_writes_dump_rdb_into_data(lab):
    data = FileSystem()
    _, ns = redis(lab, data)
    cli(lab, ns, "SET", "k", "v")
    assert cli(lab, ns, "SAVE").out.text() == "OK\n"
    assert data.read("/dump.rdb").startswith(b"REDIS0011")


def test_redis_data_survives_a_restart_with_the_same_volume(lab):
    data = FileSystem()
    p, ns = redis(lab, data)
    cli(lab, ns, "SET", "visits", "41")
    cli(lab, ns, "SAVE")
    lab.kernel.signal(p.pid, "KILL")
    p2, ns2 = redis(lab, data, ip="10.0.1.61")
    assert "Done loading RDB, keys loaded: 1, keys expired: 0." in p2.out.text()
    assert cli(lab, ns2, "INCR", "visits").out.text() == "42\n"


def test_redis_saves_on_sigterm_but_not_on_sigkill(lab):
    data = FileSystem()
    p, ns = redis(lab, data)
    cli(lab, ns, "SET", "a", "1")
    lab.kernel.signal(p.pid, "KILL")
    assert not data.exists("/dump.rdb")
    p2, ns2 = redis(lab, data, ip="10.0.1.61")
    cli(lab, ns2, "SET", "b", "2")
    lab.kernel.signal(p2.pid, "TERM")
    lab.loop.advance(1)
    assert p2.exit_code == 0 and "Saving the final RDB snapshot before exiting." in p2.out.text()
    assert b'"b"' in data.read("/dump.rdb")


def test_redis_requirepass(lab):
    _, ns = redis(lab, args=("--requirepass", "s3cret"))
    assert cli(lab, ns, "GET", "x").out.text() == "NOAUTH Authentication required.\n"
    assert cli(lab, ns, "-a", "s3cret", "PING").out.text() == "PONG\n"


# -- python ---------------------------------------------------------------------------------------
def python_ns(lab, ip="10.0.1.40", name="py"):
    ns, img = lab.image("python:3.12-slim", ip=ip, name=name)
    return ns, img.config.env_dict()


def test_python_version(lab):
    ns, env = python_ns(lab)
    assert lab.run(ns, ["python3", "--version"], env=env).out.text() == "Python 3.12.6\n"


def test_python_c_prints(lab):
    ns, env = python_ns(lab)
    p = lab.run(ns, ["python3", "-c", "import os; n = 6 * 7; print(f'answer={n}', os.environ.get('X', 'none'))"],
                env={**env, "X": "set"})
    assert (p.exit_code, p.out.text()) == (0, "answer=42 set\n")


def test_python_sys_exit_sets_the_exit_code(lab):
    ns, env = python_ns(lab)
    assert lab.run(ns, ["python3", "-c", "import sys; sys.exit(3)"], env=env).exit_code == 3


def test_python_syntax_error(lab):
    ns, env = python_ns(lab)
    p = lab.run(ns, ["python3", "-c", "print('hi'"], env=env)
    assert p.exit_code == 1 and p.err.text().endswith("SyntaxError: '(' was never closed\n")


def test_python_missing_script(lab):
    ns, env = python_ns(lab)
    p = lab.run(ns, ["python3", "app.py"], env=env, cwd="/app")
    assert (p.exit_code, p.err.text()) == (2, "python3: can't open file '/app/app.py': [Errno 2] No such file or directory\n")


def test_python_missing_module_is_a_traceback(lab):
    ns, env = python_ns(lab)
    ns.fs.makedirs("/app")
    ns.fs.write("/app/app.py", "from flask import Flask\napp = Flask(__name__)\n")
    p = lab.run(ns, ["python3", "app.py"], env=env, cwd="/app")
    assert p.exit_code == 1
    assert p.err.text() == ('Traceback (most recent call last):\n  File "/app/app.py", line 1, in <module>\n'
                            "    from flask import Flask\nModuleNotFoundError: No module named 'flask'\n")


def test_python_time_sleep_takes_simulated_time(lab):
    ns, env = python_ns(lab)
    p = lab.spawn(ns, ["python3", "-c", "import time\nfor i in range(3):\n    print(i)\n    time.sleep(10)\n"], env=env)
    lab.loop.advance(15)
    assert p.alive and p.out.text() == "0\n1\n"
    lab.loop.advance(20)
    assert p.exit_code == 0


def test_python_http_server_serves_the_working_directory(lab):
    ns, env = python_ns(lab)
    ns.fs.makedirs("/site")
    ns.fs.write("/site/hello.txt", "hi there\n")
    p = lab.spawn(ns, ["python3", "-m", "http.server", "8000"], env=env, cwd="/site")
    assert p.out.text() == "Serving HTTP on 0.0.0.0 port 8000 (http://0.0.0.0:8000/) ...\n"
    assert lab.get("http://10.0.1.40:8000/hello.txt").text == "hi there\n"
    assert '<a href="hello.txt">hello.txt</a>' in lab.get("http://10.0.1.40:8000/").text
    assert lab.get("http://10.0.1.40:8000/nope").status == 404
    assert '"GET /hello.txt HTTP/1.1" 200 -' in p.err.text()


FLASK_APP = """import socket
from flask import Flask

app = Flask(__name__)

@app.route("/")
def index():
    return f"Hello from {socket.gethostname()}!"

@app.route("/square/<int:n>")
def square(n):
    return {"n": n, "square": n * n}

if __name__ == "__main__":
    app.run(host=HOST, port=5000)
"""


def flask_app(lab, host="0.0.0.0"):
    ns, env = python_ns(lab)
    lab.run(ns, ["pip", "install", "flask"], env=env)
    ns.fs.makedirs("/app")
    ns.fs.write("/app/app.py", FLASK_APP.replace("HOST", repr(host)))
    return lab.spawn(ns, ["python3", "app.py"], env=env, cwd="/app"), ns


def test_flask_app_answers_routes(lab):
    p, _ = flask_app(lab)
    assert lab.get("http://10.0.1.40:5000/").text == "Hello from py!"
    r = lab.get("http://10.0.1.40:5000/square/12")
    assert r.header("Content-Type") == "application/json" and '"square": 144' in r.text
    assert " * Running on all addresses (0.0.0.0)" in p.err.text()


def test_flask_app_bound_to_localhost_resets_outside_connections(lab):
    flask_app(lab, host="127.0.0.1")
    with pytest.raises(NetworkError, match="Connection reset by peer"):
        lab.get("http://10.0.1.40:5000/")


# -- lab programs ---------------------------------------------------------------------------------
def alpine(lab, memory=None, ip=None):
    return lab.container([distro.alpine_layer(), APPS], memory=memory, ip=ip)


@pytest.mark.parametrize("program", ["crash", "exit-with", "cpu-hog", "mem-hog", "kv-server", "web-app", "monolith"])
def test_lab_programs_have_help(lab, program):
    p = lab.run(alpine(lab), [program, "--help"])
    assert p.exit_code == 0 and p.out.text().startswith("Usage: ")


def test_crash_exits_with_its_code_after_the_delay(lab):
    p = lab.spawn(alpine(lab), ["crash", "--after", "5", "--code", "3", "--message", "boom"])
    lab.loop.advance(4)
    assert p.alive
    lab.loop.advance(2)
    assert p.exit_code == 3 and p.err.text() == "crash: boom\n"


def test_crash_rejects_a_bad_number(lab):
    p = lab.run(alpine(lab), ["crash", "--after", "soon"])
    assert (p.exit_code, p.err.text()) == (2, "crash: invalid value for --after: 'soon' (expected a number)\n")


def test_exit_with(lab):
    assert lab.run(alpine(lab), ["exit-with", "42"]).exit_code == 42


def test_cpu_hog_uses_cores(lab):
    p = lab.spawn(alpine(lab), ["cpu-hog", "--cores", "2"])
    assert p.cpu == 2.0 and p.alive


def test_mem_hog_is_oom_killed_over_the_memory_limit(lab):
    ns = alpine(lab, memory=110 * 1024 * 1024)  # room for 100 MiB of heap plus the program itself
    p = lab.spawn(ns, ["mem-hog", "--mb", "300", "--step-mb", "50", "--every", "1"])
    lab.loop.advance(10)
    assert p.exit_code == 137 and ns.cgroup.oom_killed
    assert "allocated 100 MiB" in p.out.text() and "allocated 150 MiB" not in p.out.text()


def test_mem_hog_holds_memory_under_the_limit(lab):
    ns = alpine(lab, memory=100 * 1024 * 1024)
    p = lab.spawn(ns, ["mem-hog", "--mb", "64"])
    lab.loop.advance(10)
    assert p.alive and p.rss == 64 * 1024 * 1024 + DEFAULT_RESIDENT_MEMORY and not ns.cgroup.oom_killed


def test_kv_server_stores_and_deletes_keys(lab):
    lab.spawn(alpine(lab, ip="10.0.1.20"), ["kv-server"])
    assert lab.get("http://10.0.1.20:8080/color", "PUT", b"blue").text == "OK\n"
    assert lab.get("http://10.0.1.20:8080/color").text == "blue"
    assert lab.get("http://10.0.1.20:8080/").text == '{"keys": ["color"]}\n'
    assert lab.get("http://10.0.1.20:8080/color", "DELETE").status == 200
    assert lab.get("http://10.0.1.20:8080/color").status == 404


def test_kv_server_keeps_data_in_its_data_directory(lab):
    ns = alpine(lab, ip="10.0.1.21")
    lab.spawn(ns, ["kv-server", "--data", "/data"])
    lab.get("http://10.0.1.21:8080/k", "PUT", b"v")
    assert ns.fs.read("/data/k") == b"v"


def test_web_app_says_hostname_and_version(lab):
    ns = lab.container([distro.alpine_layer(), APPS], name="web-1", ip="10.0.1.30")
    lab.spawn(ns, ["web-app"], env={"VERSION": "2.0"})
    assert lab.get("http://10.0.1.30:8080/").text == "Hello from web-1! (version 2.0)\n"
    assert lab.get("http://10.0.1.30:8080/healthz").text == "ok\n"


def test_web_app_fail_after_crashes_the_process(lab):
    p = lab.spawn(alpine(lab), ["web-app", "--fail-after", "30"])
    lab.loop.advance(31)
    assert p.exit_code == 1 and "fatal: a module failed after 30s" in p.err.text()


def test_web_app_becomes_unhealthy(lab):
    lab.spawn(alpine(lab, ip="10.0.1.31"), ["web-app", "--unhealthy-after", "20"])
    assert lab.get("http://10.0.1.31:8080/healthz").status == 200
    lab.loop.advance(21)
    assert lab.get("http://10.0.1.31:8080/healthz").status == 500


def test_web_app_service_crash_takes_down_only_that_service(lab):
    users = lab.spawn(alpine(lab, ip="10.0.1.32"), ["web-app", "--service", "users"])
    payments = lab.spawn(alpine(lab, ip="10.0.1.33"), ["web-app", "--service", "payments"])
    assert lab.get("http://10.0.1.33:8080/payments/crash").status == 500
    lab.loop.advance(1)
    assert payments.exit_code == 1 and users.alive
    assert '"name": "kim"' in lab.get("http://10.0.1.32:8080/users").text


def test_monolith_crash_in_payments_kills_every_module(lab):
    p = lab.spawn(alpine(lab, ip="10.0.1.34"), ["monolith"])
    assert lab.get("http://10.0.1.34:8080/users").status == 200
    r = lab.get("http://10.0.1.34:8080/payments/crash")
    assert r.status == 500
    lab.loop.advance(1)
    assert p.exit_code == 1
    with pytest.raises(NetworkError, match="Connection refused"):
        lab.get("http://10.0.1.34:8080/users")


def test_wget_fetches_from_a_server(lab):
    nginx(lab)
    p = lab.run(lab.container([distro.busybox_layer()]), ["wget", "-qO-", "http://10.0.1.80/"])
    assert p.exit_code == 0 and "Welcome to nginx!" in p.out.text()


def test_nginx_daemon_mode_reports_bind_errors_on_the_terminal(lab):
    nginx(lab)
    ns = lab.net.owner("10.0.1.80")
    other = Namespaces(FileSystem(catalog.image("nginx:1.25").rootfs_layers()), "h", lab.kernel.host_pidns, ns)
    p = lab.run(other, ["nginx"], env={"NGINX_VERSION": "1.25.5"})
    assert p.exit_code == 1 and "bind() to 0.0.0.0:80 failed (98: Address already in use)" in p.err.text()


def test_flask_run_serves_the_app_in_the_current_directory(lab):
    ns, env = python_ns(lab)
    lab.run(ns, ["pip", "install", "flask"], env=env)
    assert ns.fs.is_file("/usr/local/bin/flask")
    ns.fs.makedirs("/app")
    ns.fs.write("/app/app.py", FLASK_APP.replace("HOST", "'0.0.0.0'"))
    p = lab.spawn(ns, ["flask", "run", "--host", "0.0.0.0"], env=env, cwd="/app")
    assert p.alive and lab.get("http://10.0.1.40:5000/").text == "Hello from py!"
    assert " * Serving Flask app 'app'" in p.err.text()


def test_gunicorn_serves_module_app(lab):
    ns, env = python_ns(lab)
    lab.run(ns, ["pip", "install", "flask", "gunicorn"], env=env)
    ns.fs.makedirs("/app")
    ns.fs.write("/app/app.py", FLASK_APP.replace("HOST", "'0.0.0.0'"))
    p = lab.spawn(ns, ["gunicorn", "-b", "0.0.0.0:8000", "app:app"], env=env, cwd="/app")
    assert lab.get("http://10.0.1.40:8000/").text == "Hello from py!"
    assert "[INFO] Listening at: http://0.0.0.0:8000" in p.err.text() and '"GET /' not in p.err.text()


def test_python_endless_loop_without_sleep_is_stopped(lab):
    ns, env = python_ns(lab)
    p = lab.run(ns, ["python3", "-c", "while True:\n    x = 1\n"], env=env)
    assert p.exit_code == 1 and "an endless loop without time.sleep?" in p.err.text()


def test_python_unsupported_syntax_is_explained(lab):
    ns, env = python_ns(lab)
    p = lab.run(ns, ["python3", "-c", "class A:\n    pass\n"], env=env)
    assert p.exit_code == 1 and "ClassDef" in p.err.text() and "small subset of Python" in p.err.text()


def test_python_isinstance_and_try_except(lab):
    ns, env = python_ns(lab)
    code = "try:\n    int('x')\nexcept ValueError as e:\n    print(isinstance(e, ValueError), isinstance(3, str), e)\n"
    p = lab.run(ns, ["python3", "-c", code], env=env)
    assert p.out.text() == "True False invalid literal for int() with base 10: 'x'\n"
