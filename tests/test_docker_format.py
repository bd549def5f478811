"""How the docker CLI prints: sizes, durations, tables, ``--format`` templates, the flag parser.

These are the pure pieces under ``docker ps`` / ``docker images``: each test
pins one rule of the real CLI (go-units, text/tabwriter, text/template,
spf13/pflag) so the simulated output matches a real terminal byte for byte.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aivle_k8s.engine import format as fmt
from aivle_k8s.engine.cli import Flag, FlagError, parse_command_line, parse_flags
from aivle_k8s.sim.errors import UsageError

# -- sizes (go-units) ---------------------------------------------------------------------------


@pytest.mark.parametrize("size, text", [
    (0, "0B"), (999, "999B"), (1000, "1kB"), (5_200, "5.2kB"), (187_000_000, "187MB"),
    (187_654_321, "188MB"), (1_234_567_890, "1.23GB"), (77_800_000, "77.8MB"), (999_500, "1e+03kB"),
])
def test_human_size_is_decimal_with_three_significant_digits(size, text):
    assert fmt.human_size(size) == text


def test_human_size_with_four_digits_is_go_units_HumanSize():
    assert fmt.human_size(187_654_321, 4) == "187.7MB"
    assert fmt.human_size(6_174, 4) == "6.174kB"


def test_bytes_size_is_binary_like_docker_stats():
    assert fmt.bytes_size(0) == "0B"
    assert fmt.bytes_size(1536) == "1.5KiB"
    assert fmt.bytes_size(4 * 1024**3) == "4GiB"


@pytest.mark.parametrize("text, binary, value", [
    ("512m", True, 512 * 1024**2), ("1g", True, 1024**3), ("1.5GB", False, 1_500_000_000), ("100", True, 100),
    ("64k", True, 65536), ("2 MiB", True, 2 * 1024**2),
])
def test_parse_size_reads_docker_memory_values(text, binary, value):
    assert fmt.parse_size(text, binary=binary) == value


@pytest.mark.parametrize("text, message", [("abc", "invalid size: 'abc'"), ("12x", "invalid suffix: 'x'"),
                                           ("-1m", "invalid size: '-1m'")])
def test_parse_size_errors_use_go_units_words(text, message):
    with pytest.raises(Exception) as e:
        fmt.parse_size(text, binary=True)
    assert str(e.value) == message


# -- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds, text", [
    (0, "Less than a second"), (0.9, "Less than a second"), (1, "1 second"), (5, "5 seconds"),
    (59, "59 seconds"), (60, "About a minute"), (119, "About a minute"), (120, "2 minutes"),
    (59 * 60, "59 minutes"), (3600, "About an hour"), (5399, "About an hour"), (5400, "2 hours"),
    (47 * 3600, "47 hours"), (48 * 3600, "2 days"), (13 * 86400, "13 days"), (14 * 86400, "2 weeks"),
    (59 * 86400, "8 weeks"), (60 * 86400, "2 months"), (729 * 86400, "24 months"), (730 * 86400, "2 years"),
])
def test_human_duration_follows_go_units(seconds, text):
    assert fmt.human_duration(seconds) == text


# -- strings -----------------------------------------------------------------------------------


def test_command_column_is_quoted_and_cut_to_twenty_cells_with_an_ellipsis():
    cmd = "/docker-entrypoint.sh nginx -g 'daemon off;'"
    assert fmt.go_quote(fmt.ellipsis(cmd, 20)) == '"/docker-entrypoint.…"'
    assert fmt.ellipsis("short", 20) == "short"
    assert len(fmt.ellipsis("x" * 50, 20)) == 20


def test_go_quote_escapes_like_strconv_quote():
    assert fmt.go_quote('a "b"\n\tc\\') == '"a \\"b\\"\\n\\tc\\\\"'
    assert fmt.go_quote("héllo …") == '"héllo …"'


def test_truncate_id_drops_the_algorithm_and_keeps_twelve_hex():
    assert fmt.truncate_id("sha256:" + "ab" * 32) == "ab" * 6
    assert fmt.truncate_id("9f2c" * 16) == "9f2c9f2c9f2c"


# -- tables (text/tabwriter as docker configures it) -----------------------------------------------


def test_empty_ps_header_pads_short_columns_to_ten_cells():
    header = "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n"
    assert fmt.tabwriter(header) == "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"


def test_columns_are_as_wide_as_the_widest_cell_plus_three_spaces():
    text = fmt.table([["fcbd04c34021", "nginx:1.25", "web"], ["0a1b2c3d4e5f", "busybox", "a-much-longer-name"]],
                     ["CONTAINER ID", "IMAGE", "NAMES"])
    assert text.splitlines() == [
        "CONTAINER ID   IMAGE        NAMES",
        "fcbd04c34021   nginx:1.25   web",
        "0a1b2c3d4e5f   busybox      a-much-longer-name",
    ]


def test_the_last_cell_is_never_padded_and_empty_cells_keep_their_column():
    text = fmt.tabwriter("A\tB\tC\nlong value\t\tend\n")
    assert text == "A            B         C\nlong value             end\n"
    assert not any(line.endswith(" ") for line in text.splitlines())


def test_min_width_and_padding_are_parameters_like_docker_top():
    assert fmt.tabwriter("UID\tPID\nroot\t1\n", minwidth=20) == "UID                 PID\nroot                1\n"


def test_a_line_without_tabs_ends_a_column_block():
    text = fmt.tabwriter("a\tb\nseparator\nlonger-cell\tc\n")
    assert text.splitlines() == ["a         b", "separator", "longer-cell   c"]


# -- ports ---------------------------------------------------------------------------------------


def test_published_port_shows_ipv4_and_ipv6_bindings():
    rows = [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]
    assert fmt.display_ports(rows) == "0.0.0.0:8080->80/tcp, :::8080->80/tcp"


def test_same_host_and_container_ports_and_exposed_ranges_are_grouped():
    rows = [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 80, "Type": "tcp"},
            {"PrivatePort": 443, "Type": "tcp"}, {"PrivatePort": 444, "Type": "tcp"},
            {"PrivatePort": 53, "Type": "udp"}]
    assert fmt.display_ports(rows) == "53/udp, 0.0.0.0:80->80/tcp, 443-444/tcp"


def test_no_ports_is_an_empty_cell():
    assert fmt.display_ports([]) == ""


# -- flag usages (pflag) ------------------------------------------------------------------------------


def test_flag_usages_align_the_descriptions_and_sort_by_name():
    text = fmt.flag_usages([("v", "volumes", "", "Remove anonymous volumes associated with the container"),
                            ("f", "force", "", "Force the removal of a running container (uses SIGKILL)"),
                            ("", "time", "int", "Seconds to wait")])
    assert text.splitlines() == [
        "  -f, --force      Force the removal of a running container (uses SIGKILL)",
        "      --time int   Seconds to wait",
        "  -v, --volumes    Remove anonymous volumes associated with the container",
    ]


def test_long_flag_descriptions_wrap_at_79_columns_under_their_column():
    text = fmt.flag_usages([("", "format", "string", "Format output using a custom template: " + "word " * 20)])
    lines = text.splitlines()
    assert len(lines) > 1 and all(len(line) <= 80 for line in lines)
    assert lines[1].startswith(" " * len("      --format string   "))


# -- Go templates ------------------------------------------------------------------------------------

INSPECT = {
    "Id": "9f2c" * 16,
    "State": {"Status": "running", "Running": True, "ExitCode": 0, "Pid": 4},
    "Config": {"Env": ["PATH=/bin", "A=1"], "Cmd": ["nginx", "-g", "daemon off;"], "Labels": {"tier": "web"},
               "Entrypoint": None},
    "NetworkSettings": {"IPAddress": "172.17.0.2",
                        "Networks": {"bridge": {"IPAddress": "172.17.0.2"}, "appnet": {"IPAddress": "172.18.0.2"}},
                        "Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}},
}


@pytest.mark.parametrize("template, output", [
    ("{{.State.Status}}", "running"),
    ("{{.NetworkSettings.IPAddress}}", "172.17.0.2"),
    ("{{json .Config.Cmd}}", '["nginx","-g","daemon off;"]'),
    ("{{json .Config.Labels}}", '{"tier":"web"}'),
    ('{{index .Config.Labels "tier"}}', "web"),
    ("{{.Config.Env}}", "[PATH=/bin A=1]"),
    ("{{.Config.Labels}}", "map[tier:web]"),
    ("{{.State.Running}} {{.State.Pid}}", "true 4"),
    ("{{.Config.Entrypoint}}", "<nil>"),
    ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "172.18.0.2 172.17.0.2 "),
    ("{{range $name, $net := .NetworkSettings.Networks}}{{$name}}={{$net.IPAddress}};{{end}}",
     "appnet=172.18.0.2;bridge=172.17.0.2;"),
    ('{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', "8080"),
    ('{{if eq .State.Status "running"}}up{{else}}down{{end}}', "up"),
    ("{{if .State.ExitCode}}failed{{else if .State.Running}}running{{end}}", "running"),
    ("{{with .State}}{{.Status}}{{end}}", "running"),
    ("{{len .Config.Env}} {{join .Config.Env \",\"}} {{upper .State.Status}}", "2 PATH=/bin,A=1 RUNNING"),
    ("{{- /* a comment */ -}}  {{ .State.Status -}}  !", "running!"),
    ('{{printf "%s:%d" .State.Status .State.Pid}}', "running:4"),
    ("{{range .Config.Env}}{{.}}\n{{end}}", "PATH=/bin\nA=1\n"),
    ("{{.Missing}}", "<no value>"),
])
def test_format_templates_render_like_go_text_template(template, output):
    assert fmt.Template(template).execute(INSPECT) == output


def test_a_missing_key_is_an_error_where_docker_inspect_uses_missingkey_error():
    with pytest.raises(fmt.TemplateError) as e:
        fmt.Template("{{.State.Nope}}").execute(INSPECT, missingkey="error")
    assert str(e.value) == 'template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope"'


@pytest.mark.parametrize("template, message", [
    ("{{.State.Status", "template: :1: unclosed action"),
    ("{{nosuchfunc .Id}}", 'template: :1: function "nosuchfunc" not defined'),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{if .Id}}", "template: :1: unexpected EOF"),
    ("{{$x}}", 'template: :1: undefined variable "$x"'),
])
def test_template_syntax_errors_use_go_messages(template, message):
    with pytest.raises(fmt.TemplateError) as e:
        fmt.Template(template)
    assert str(e.value) == message


def test_field_on_a_string_is_an_execution_error():
    with pytest.raises(fmt.TemplateError, match="can't evaluate field X in type string"):
        fmt.Template("{{.State.Status.X}}").execute(INSPECT)


class _Row(fmt.FormatContext):
    go_type = "*formatter.ContainerContext"
    fields = ("ID", "Names", "Label")

    def __init__(self, ident, name):
        self.ID, self.Names = ident, name

    def Label(self, key):
        return f"<{key}>"


HEADERS = {"ID": "CONTAINER ID", "Names": "NAMES"}


def test_table_format_prints_headers_and_aligns_columns():
    out = fmt.format_list("table {{.ID}}\\t{{.Names}}", [_Row("abc", "web"), _Row("def", "db")], HEADERS)
    assert out == "CONTAINER ID   NAMES\nabc            web\ndef            db\n"


def test_plain_format_prints_one_line_per_item_with_real_tabs():
    out = fmt.format_list("{{.ID}}\\t{{.Names}}", [_Row("abc", "web")], HEADERS)
    assert out == "abc\tweb\n"


def test_json_format_marshals_every_field_with_sorted_keys():
    out = fmt.format_list("json", [_Row("abc", "web")], HEADERS)
    assert out == '{"ID":"abc","Names":"web"}\n'


def test_methods_take_arguments_and_header_of_label_is_upper_case():
    out = fmt.format_list('table {{.Names}}\\t{{.Label "com.example.tier"}}', [_Row("abc", "web")], HEADERS)
    assert out.splitlines() == ["NAMES     COM EXAMPLE TIER", "web       <com.example.tier>"]


def test_unknown_field_in_a_list_format_names_the_context_type():
    with pytest.raises(fmt.TemplateError) as e:
        fmt.format_list("{{.Nope}}", [_Row("abc", "web")], HEADERS)
    assert str(e.value) == ('template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate '
                            'field Nope in type *formatter.ContainerContext')


# -- the flag parser (pflag) ---------------------------------------------------------------------------

FLAGS = [Flag("detach", "d"), Flag("publish", "p", "list"), Flag("name", "", "string"),
         Flag("last", "n", "int", default=-1), Flag("env", "e", "list", check="env"), Flag("memory", "m", "bytes"),
         Flag("cpus", "", "decimal")]


def test_combined_shorthands_and_attached_values():
    p = parse_flags(FLAGS, ["-dp", "8080:80", "-n3", "-e", "A=1", "-eB=2", "x"])
    assert p.values["detach"] and p.values["publish"] == ["8080:80"] and p.values["last"] == 3
    assert p.values["env"] == ["A=1", "B=2"] and p.args == ["x"]


def test_long_flags_with_and_without_equals_and_the_double_dash():
    p = parse_flags(FLAGS, ["--name=web", "--memory", "512m", "--cpus=1.5", "--", "--name", "x"])
    assert p.values["name"] == "web" and p.values["memory"] == 512 * 1024**2 and p.values["cpus"] == 1_500_000_000
    assert p.args == ["--name", "x"]


def test_flags_after_the_first_argument_belong_to_it_when_not_interspersed():
    p = parse_flags(FLAGS, ["-d", "nginx", "-d", "--name", "x"], interspersed=False)
    assert p.args == ["nginx", "-d", "--name", "x"]
    p = parse_flags(FLAGS, ["web", "-d"], interspersed=True)
    assert p.args == ["web"] and p.values["detach"]


def test_env_without_a_value_is_taken_from_the_callers_environment():
    p = parse_flags(FLAGS, ["-e", "HOME", "-e", "UNSET"], env={"HOME": "/home/student"})
    assert p.values["env"] == ["HOME=/home/student", "UNSET"]


@pytest.mark.parametrize("argv, message", [
    (["--foo"], "unknown flag: --foo"),
    (["-z"], "unknown shorthand flag: 'z' in -z"),
    (["-dz"], "unknown shorthand flag: 'z' in -z"),
    (["--name"], "flag needs an argument: --name"),
    (["-n"], "flag needs an argument: 'n' in -n"),
    (["-n", "x"], 'invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax'),
    (["--detach=maybe"], 'invalid argument "maybe" for "-d, --detach" flag: strconv.ParseBool: parsing "maybe": '
                         'invalid syntax'),
    (["-m", "lots"], "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'"),
    (["--cpus", "two"], 'invalid argument "two" for "--cpus" flag: failed to parse two as a rational number'),
    (["-e", "=x"], 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x'),
    (["---x"], "bad flag syntax: ---x"),
])
def test_parse_errors_use_pflag_messages(argv, message):
    with pytest.raises(FlagError) as e:
        parse_flags(FLAGS, argv)
    assert str(e.value) == message


def test_help_is_a_hidden_flag_of_every_command():
    assert parse_flags(FLAGS, ["--help"]).values["help"]
    assert parse_flags(FLAGS, ["-h"]).values["help"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["-d", "-p", "--name", "--name=x", "-dp", "--", "-", "-n", "--last=2",
                                           "-e", "--help", "-h", "--rm", "-v", "--format", "{{.ID}}", "run", "ps",
                                           "rm", "images", "container", "ls", "volume", "network", "image", "-a",
                                           "--filter", "status=exited", "nginx", "-it", "--no-trunc", "-q"]),
                          st.text(max_size=8)), max_size=8))
def test_any_argv_either_parses_or_raises_a_usage_error(argv):
    try:
        inv = parse_command_line(argv, env={})
    except UsageError as e:
        assert e.message and getattr(e, "exit_code", None) in (1, 125)
        return
    assert inv.action in ("run", "help", "version")
    assert isinstance(inv.args, list)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=6), max_size=6))
def test_the_flag_parser_alone_never_raises_anything_but_its_error(argv):
    try:
        parse_flags(FLAGS, argv)
    except FlagError:
        pass
