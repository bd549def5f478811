"""The shell: parsing, expansions, redirections, compound commands, builtins, exit codes.

Every test types a real command line into a fresh machine (``m.sh(...)``) and
checks what a terminal would show: the exit code, stdout and stderr.
"""

import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aivle_k8s as ak
from aivle_k8s.linux.shell import ListNode, ShellSyntaxError, SimpleCommand, parse


@pytest.fixture
def m(world):
    return world.machine("m")


# ---------------------------------------------------------------------------
# parse()


def test_parse_returns_an_ast_of_complete_commands():
    script = parse("echo a; echo b && echo c\nls | wc -l")
    assert len(script.commands) == 2
    first = script.commands[0]
    assert isinstance(first, ListNode)
    assert len(first.items) == 2
    simple = first.items[0][0].first.commands[0]
    assert isinstance(simple, SimpleCommand)
    assert simple.words[0].raw == "echo"


def test_parse_error_is_a_library_usage_error():
    with pytest.raises(ShellSyntaxError) as info:
        parse("echo ;;")
    assert isinstance(info.value, ak.UsageError)
    assert str(info.value) == "syntax error near unexpected token `;;'"


def test_parse_reports_unexpected_end_of_file():
    with pytest.raises(ShellSyntaxError, match="unexpected end of file"):
        parse("if true; then echo yes")


def test_parse_keeps_heredoc_bodies():
    script = parse("cat <<'EOF'\n$HOME\nEOF\n")
    doc = script.commands[0].items[0][0].first.commands[0].redirects[0].heredoc
    assert doc.body == "$HOME\n"
    assert doc.quoted


# ---------------------------------------------------------------------------
# quoting and expansions


def test_single_quotes_keep_everything_literal(m):
    assert m.sh("echo '$HOME * \\n'").stdout == "$HOME * \\n\n"


def test_double_quotes_expand_variables_but_not_globs(m):
    assert m.sh('echo "$USER *"').stdout == "student *\n"


def test_backslash_escapes_a_character(m):
    assert m.sh("echo \\$HOME a\\ b").stdout == "$HOME a b\n"


def test_ansi_c_quotes(m):
    assert m.sh("printf %s $'a\\tb'").stdout == "a\tb"


def test_braced_variable_and_default_values(m):
    r = m.sh("x=5; echo ${x}1 ${unset:-dflt} ${x:-no} ${#x}")
    assert r.stdout == "51 dflt 5 1\n"


def test_assign_default_sets_the_variable(m):
    assert m.sh("echo ${v:=seven}; echo $v").stdout == "seven\nseven\n"


def test_alternative_value(m):
    assert m.sh("x=1; echo [${x:+set}] [${y:+set}]").stdout == "[set] []\n"


def test_error_if_unset_exits_the_shell(m):
    r = m.sh("echo ${missing:?is required}; echo after")
    assert r.exit_code == 1
    assert r.stderr == "bash: missing: is required\n"
    assert r.stdout == ""


def test_pattern_removal_and_substitution(m):
    r = m.sh("p=/usr/local/bin/tool.tar.gz; echo ${p##*/} ${p%%.*} ${p#*/} ${p%.gz} ${p/local/LOCAL}")
    assert r.stdout == "tool.tar.gz /usr/local/bin/tool usr/local/bin/tool.tar.gz /usr/local/bin/tool.tar " \
                       "/usr/LOCAL/bin/tool.tar.gz\n"


def test_substring_and_case_conversion(m):
    assert m.sh("s=kubernetes; echo ${s:0:4} ${s^^}").stdout == "kube KUBERNETES\n"


def test_special_parameters(m):
    r = m.sh("false; echo $?; true; echo $?; set -- a b c; echo $# $1 $3 \"$@\"")
    assert r.stdout == "1\n0\n3 a c a b c\n"


def test_dollar_dollar_is_the_shell_pid(m):
    r = m.sh("echo $$; ps -o pid= -p $$")
    lines = r.stdout.split()
    assert lines[0] == lines[1]


def test_command_substitution_nests_inside_double_quotes(m):
    r = m.sh('echo "outer $(echo "inner $(echo deepest)")"')
    assert r.stdout == "outer inner deepest\n"


def test_backticks(m):
    assert m.sh("echo `echo hi`-`hostname`").stdout == "hi-m\n"


def test_command_substitution_strips_trailing_newlines(m):
    assert m.sh('x=$(printf "a\\n\\n\\n"); echo "[$x]"').stdout == "[a]\n"


def test_arithmetic_expansion(m):
    r = m.sh("i=7; echo $((i * 2 + 1)) $(( (3 + 4) % 5 )) $((i > 5 ? 1 : 0)) $((2**10)) $((0x10))")
    assert r.stdout == "15 2 1 1024 16\n"


def test_arithmetic_assignment_and_increment(m):
    assert m.sh("i=1; : $((i += 4)); echo $((i++)) $i").stdout == "5 6\n"


def test_division_by_zero_is_an_error(m):
    r = m.sh("echo $((1 / 0))")
    assert r.exit_code == 1
    assert "division by 0" in r.stderr


def test_unquoted_expansions_are_split_into_fields(m):
    r = m.sh('x="a  b c"; for w in $x; do echo "<$w>"; done; for w in "$x"; do echo "<$w>"; done')
    assert r.stdout == "<a>\n<b>\n<c>\n<a  b c>\n"


def test_quoted_at_keeps_arguments_apart(m):
    r = m.sh("set -- 'one two' three; for a in \"$@\"; do echo \"[$a]\"; done")
    assert r.stdout == "[one two]\n[three]\n"


def test_empty_unquoted_expansion_disappears(m):
    assert m.sh('set -- $nothing; echo $#; set -- "$nothing"; echo $#').stdout == "0\n1\n"


def test_ifs_changes_field_splitting(m):
    assert m.sh('IFS=:; x=a:b:c; for p in $x; do echo $p; done').stdout == "a\nb\nc\n"


def test_globbing_matches_files(m):
    r = m.sh("cd /tmp && touch a1 a2 b1 && echo a* && echo ?1 && echo [ab]2")
    assert r.stdout == "a1 a2\na1 b1\na2\n"


def test_glob_without_match_stays_literal(m):
    assert m.sh("echo /tmp/nothing*").stdout == "/tmp/nothing*\n"


def test_quoted_glob_is_not_expanded(m):
    assert m.sh("touch /tmp/f1; echo '/tmp/f*' \"/tmp/f*\"").stdout == "/tmp/f* /tmp/f*\n"


def test_glob_skips_hidden_files(m):
    assert m.sh("cd ~ && echo *").stdout == "*\n"
    assert m.sh("cd ~ && echo .b*").stdout == ".bashrc\n"


def test_tilde_expands_to_home(m):
    assert m.sh("echo ~ ~/x ~root").stdout == "/home/student /home/student/x /root\n"


def test_brace_expansion(m):
    assert m.sh("echo {a,b}{1..3}").stdout == "a1 a2 a3 b1 b2 b3\n"


def test_mkdir_with_brace_expansion(m):
    r = m.sh("mkdir -p ~/project/{src,test} && ls ~/project")
    assert r.stdout.split() == ["src", "test"]


# ---------------------------------------------------------------------------
# lists and pipelines


def test_and_or_lists(m):
    assert m.sh("true && echo a || echo b; false && echo c || echo d").stdout == "a\nd\n"


def test_negation(m):
    r = m.sh("! false")
    assert r.exit_code == 0
    assert m.sh("! true").exit_code == 1


def test_pipeline_feeds_stdout_to_the_next_stage(m):
    assert m.sh("printf 'b\\na\\nc\\n' | sort | head -n 2").stdout == "a\nb\n"


def test_pipeline_exit_status_is_the_last_stage(m):
    assert m.sh("false | true").exit_code == 0
    assert m.sh("true | false").exit_code == 1


def test_pipefail_reports_a_failing_stage(m):
    assert m.sh("set -o pipefail; false | true").exit_code == 1


def test_pipeline_stages_run_in_subshells(m):
    assert m.sh("x=1; echo 2 | read x; echo $x").stdout == "1\n"


def test_stderr_pipe(m):
    assert m.sh("ls /nope |& wc -l").stdout == "1\n"


def test_yes_into_head_terminates(m):
    assert m.sh("yes | head -n 3").stdout == "y\ny\ny\n"


def test_background_job_runs_while_the_shell_goes_on(world, m):
    r = m.sh("sleep 10 & echo started; wait; echo done")
    assert r.stdout == "started\ndone\n"
    assert world.now == 10


def test_background_job_outlives_the_command_line(world, m):
    r = m.sh("sleep 100 &")
    assert r.exit_code == 0
    assert world.now == 0
    assert "sleep" in m.sh("ps").stdout


def test_last_background_pid(m):
    r = m.sh("sleep 5 & echo $!; ps -o pid=,comm=")
    pid = r.stdout.split()[0]
    assert f"{pid} sleep" in " ".join(r.stdout.split())


def test_wait_returns_the_job_status(m):
    assert m.sh("(exit 3) & wait $!; echo $?").stdout == "3\n"


def test_time_keyword_reports_simulated_time(world, m):
    r = m.sh("time sleep 2")
    assert "real\t0m2.000s" in r.stderr


# ---------------------------------------------------------------------------
# redirections


def test_output_redirection_creates_and_truncates(m):
    m.sh("echo one > /tmp/f; echo two > /tmp/f")
    assert m.read_file("/tmp/f") == "two\n"


def test_append_redirection(m):
    m.sh("echo one > /tmp/f; echo two >> /tmp/f")
    assert m.read_file("/tmp/f") == "one\ntwo\n"


def test_new_files_belong_to_the_user(m):
    m.sh("echo x > ~/mine")
    entry = m.fs.stat("/home/student/mine")
    assert (entry.uid, entry.mode) == (1000, 0o664)


def test_input_redirection(m):
    m.write_file("/tmp/in", "hello\n")
    assert m.sh("tr a-z A-Z < /tmp/in").stdout == "HELLO\n"


def test_missing_input_file(m):
    r = m.sh("cat < /nope")
    assert r.exit_code == 1
    assert r.stderr == "bash: /nope: No such file or directory\n"


def test_stderr_redirection(m):
    r = m.sh("ls /nope 2> /tmp/err")
    assert r.stderr == ""
    assert m.read_file("/tmp/err") == "ls: cannot access '/nope': No such file or directory\n"


def test_stderr_to_stdout(m):
    r = m.sh("ls /nope 2>&1")
    assert r.stdout == "ls: cannot access '/nope': No such file or directory\n"
    assert r.stderr == ""


def test_redirection_order_matters(m):
    r = m.sh("ls /nope 2>&1 >/dev/null")
    assert r.stdout == "ls: cannot access '/nope': No such file or directory\n"
    assert m.sh("ls /nope >/dev/null 2>&1").output == ""


def test_both_streams_to_a_file(m):
    m.sh("{ echo out; echo err >&2; } &> /tmp/both")
    assert m.read_file("/tmp/both") == "out\nerr\n"


def test_dev_null_discards(m):
    r = m.sh("echo hidden > /dev/null; echo shown")
    assert r.stdout == "shown\n"


def test_heredoc_expands(m):
    assert m.sh("cat <<EOF\nuser=$USER\nsum=$((1+1))\nEOF").stdout == "user=student\nsum=2\n"


def test_quoted_heredoc_does_not_expand(m):
    assert m.sh("cat <<'EOF'\n$USER `date`\nEOF").stdout == "$USER `date`\n"


def test_heredoc_with_tab_stripping(m):
    assert m.sh("cat <<-EOF\n\t\tindented\n\tEOF").stdout == "indented\n"


def test_heredoc_without_trailing_newline_at_end_of_input(m):
    assert m.sh("cat <<EOF\na\nEOF").stdout == "a\n"


def test_unterminated_heredoc_warns(m):
    r = m.sh("cat <<EOF\nbody")
    assert r.stdout == "body\n"
    assert "here-document at line" in r.stderr and "wanted `EOF'" in r.stderr


def test_here_string(m):
    assert m.sh("wc -w <<< 'one two three'").stdout == "3\n"


def test_redirect_into_a_missing_directory(m):
    r = m.sh("echo x > /nope/file")
    assert (r.exit_code, r.stderr) == (1, "bash: /nope/file: No such file or directory\n")


def test_redirect_onto_a_directory(m):
    assert m.sh("echo x > /tmp").stderr == "bash: /tmp: Is a directory\n"


def test_permission_denied_redirect_as_student(m):
    r = m.sh("echo x > /etc/foo")
    assert (r.exit_code, r.stderr) == (1, "bash: /etc/foo: Permission denied\n")
    assert not m.fs.exists("/etc/foo")


def test_sudo_tee_writes_where_a_redirect_cannot(m):
    r = m.sh("echo x | sudo tee /etc/foo > /dev/null")
    assert r.exit_code == 0
    assert m.read_file("/etc/foo") == "x\n"


def test_sudo_does_not_apply_to_the_redirect(m):
    r = m.sh("sudo echo x > /etc/foo")
    assert r.stderr == "bash: /etc/foo: Permission denied\n"


def test_ambiguous_redirect(m):
    r = m.sh('f="a b"; echo x > $f')
    assert r.stderr == "bash: $f: ambiguous redirect\n"


# ---------------------------------------------------------------------------
# assignments


def test_prefix_assignment_is_only_for_that_command(m):
    r = m.sh("GREETING=hi env | grep GREETING; echo [$GREETING]")
    assert r.stdout == "GREETING=hi\n[]\n"


def test_plain_assignment_is_not_exported(m):
    assert m.sh("X=1; env | grep -c '^X='").stdout == "0\n"


def test_assignment_status_comes_from_command_substitution(m):
    assert m.sh("x=$(false); echo $?").stdout == "1\n"


def test_readonly_variable_cannot_change(m):
    r = m.sh("readonly R=1; R=2; echo $R")
    assert r.stdout == "1\n"
    assert r.stderr == "bash: R: readonly variable\n"


# ---------------------------------------------------------------------------
# compound commands


def test_if_elif_else(m):
    cmd = "for n in 1 2 3; do if [ $n -eq 1 ]; then echo one; elif [ $n -eq 2 ]; then echo two; else echo many; fi; done"
    assert m.sh(cmd).stdout == "one\ntwo\nmany\n"


def test_if_on_a_file_test(m):
    assert m.sh("if [ -f /etc/x ]; then echo yes; else echo no; fi").stdout == "no\n"
    assert m.sh("if [ -f /etc/hosts ]; then echo yes; else echo no; fi").stdout == "yes\n"


def test_for_loop(m):
    assert m.sh("for i in 1 2 3; do echo $i; done").stdout == "1\n2\n3\n"


def test_for_loop_over_positional_parameters(m):
    assert m.sh("set -- x y; for a; do echo $a; done").stdout == "x\ny\n"


def test_c_style_for_loop(m):
    assert m.sh("for ((i=0; i<3; i++)); do echo $i; done").stdout == "0\n1\n2\n"


def test_while_and_until(m):
    assert m.sh("i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i").stdout == "3\n"
    assert m.sh("i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i").stdout == "2\n"


def test_while_read_loop_consumes_lines(m):
    m.write_file("/tmp/list", "a 1\nb 2\n")
    r = m.sh("while read name n; do echo \"$n:$name\"; done < /tmp/list")
    assert r.stdout == "1:a\n2:b\n"


def test_break_and_continue(m):
    r = m.sh("for i in 1 2 3 4 5; do [ $i -eq 2 ] && continue; [ $i -eq 4 ] && break; echo $i; done")
    assert r.stdout == "1\n3\n"


def test_nested_break(m):
    r = m.sh("for a in 1 2; do for b in x y; do echo $a$b; break 2; done; done")
    assert r.stdout == "1x\n"


def test_case_with_patterns(m):
    cmd = 'for f in a.txt b.tar.gz c; do case "$f" in *.txt) echo text;; *.gz|*.zip) echo archive;; *) echo other;; esac; done'
    assert m.sh(cmd).stdout == "text\narchive\nother\n"


def test_brace_group_shares_the_shell(m):
    assert m.sh("{ x=1; }; echo $x").stdout == "1\n"


def test_subshell_is_isolated(m):
    assert m.sh("x=1; (x=2; cd /tmp); echo $x; pwd").stdout == "1\n/home/student\n"


def test_compound_redirection(m):
    m.sh("{ echo a; echo b; } > /tmp/ab")
    assert m.read_file("/tmp/ab") == "a\nb\n"


def test_functions_with_arguments_and_return(m):
    r = m.sh("greet() { echo \"hi $1 ($#)\"; return 3; }; greet bob x; echo $?")
    assert r.stdout == "hi bob (2)\n3\n"


def test_function_local_variables(m):
    r = m.sh("x=outer; f() { local x=inner; echo $x; }; f; echo $x")
    assert r.stdout == "inner\nouter\n"


def test_function_keyword(m):
    assert m.sh("function hello { echo hello; }; hello").stdout == "hello\n"


def test_runaway_recursion_is_stopped(m):
    r = m.sh("f() { f; }; f")
    assert r.exit_code == 1
    assert "maximum function nesting level exceeded" in r.stderr


def test_double_bracket_conditions(m):
    r = m.sh('x=kube; [[ $x == k* && -d /etc ]] && echo yes; [[ $x =~ ^ku(be)$ ]] && echo re')
    assert r.stdout == "yes\nre\n"


def test_arithmetic_command(m):
    assert m.sh("((3 > 2)) && echo bigger").stdout == "bigger\n"
    assert m.sh("((0))").exit_code == 1


# ---------------------------------------------------------------------------
# builtins


def test_cd_persists_between_calls(m):
    m.sh("cd /etc")
    assert m.sh("pwd").stdout == "/etc\n"
    assert m.cwd == "/etc"


def test_cd_without_arguments_goes_home(m):
    m.sh("cd /tmp")
    assert m.sh("cd; pwd").stdout == "/home/student\n"


def test_cd_dash_returns_to_the_previous_directory(m):
    assert m.sh("cd /tmp; cd /etc; cd -").stdout == "/tmp\n"


def test_cd_errors(m):
    assert m.sh("cd /nope").stderr == "bash: cd: /nope: No such file or directory\n"
    assert m.sh("cd /etc/hosts").stderr == "bash: cd: /etc/hosts: Not a directory\n"
    assert m.sh("cd /root").stderr == "bash: cd: /root: Permission denied\n"
    assert m.sh("cd a b").stderr == "bash: cd: too many arguments\n"


def test_failed_cd_keeps_the_directory(m):
    m.sh("cd /nope")
    assert m.cwd == "/home/student"


def test_export_persists_between_calls(m):
    m.sh("export STAGE=prod")
    assert m.sh("echo $STAGE; env | grep STAGE").stdout == "prod\nSTAGE=prod\n"


def test_unset_removes_an_exported_variable(m):
    m.sh("export GONE=1")
    m.sh("unset GONE")
    assert m.sh("echo [$GONE]").stdout == "[]\n"


def test_export_rejects_invalid_names(m):
    r = m.sh("export 1x=2")
    assert (r.exit_code, r.stderr) == (1, "bash: export: `1x=2': not a valid identifier\n")


def test_exit_with_a_code(m):
    r = m.sh("echo before; exit 4; echo after")
    assert (r.exit_code, r.stdout) == (4, "before\n")


def test_exit_with_a_bad_number(m):
    r = m.sh("exit abc")
    assert (r.exit_code, r.stderr) == (2, "bash: exit: abc: numeric argument required\n")


def test_set_e_stops_at_the_first_failure(m):
    r = m.sh("set -e; echo one; false; echo two")
    assert (r.exit_code, r.stdout) == (1, "one\n")


def test_set_e_ignores_conditions(m):
    r = m.sh("set -e; if false; then :; fi; false || true; echo survived")
    assert r.stdout == "survived\n"


def test_set_u_rejects_unset_variables(m):
    r = m.sh("set -u; echo $nope; echo after")
    assert (r.exit_code, r.stderr) == (1, "bash: nope: unbound variable\n")


def test_set_x_traces_commands(m):
    r = m.sh("set -x; echo 'a b' $((1+1))")
    assert r.stderr == "+ echo 'a b' 2\n"


def test_source_runs_a_file_in_this_shell(m):
    m.write_file("/tmp/vars.sh", "NAME=from-file\n")
    assert m.sh(". /tmp/vars.sh && echo $NAME").stdout == "from-file\n"
    assert m.sh("source /tmp/vars.sh; echo $NAME").stdout == "from-file\n"


def test_source_of_os_release(m):
    assert m.sh('. /etc/os-release && echo "$VERSION_CODENAME"').stdout == "jammy\n"


def test_eval_parses_its_arguments_again(m):
    assert m.sh("cmd='echo evaluated'; eval $cmd").stdout == "evaluated\n"


def test_exec_replaces_the_shell(m):
    r = m.sh("exec echo replaced; echo never")
    assert r.stdout == "replaced\n"


def test_exec_redirects_the_rest_of_the_shell(m):
    m.sh("exec > /tmp/log; echo one; echo two")
    assert m.read_file("/tmp/log") == "one\ntwo\n"


def test_read_splits_into_variables(m):
    r = m.sh("read first rest <<< 'a b c'; echo \"$first|$rest\"")
    assert r.stdout == "a|b c\n"


def test_read_at_end_of_input_fails(m):
    assert m.sh("read x < /dev/null").exit_code == 1


def test_read_from_the_command_stdin(m):
    assert m.sh("read name; echo hello $name", stdin="world\n").stdout == "hello world\n"


def test_shift(m):
    assert m.sh("set -- a b c; shift; echo $@; shift 2; echo $#").stdout == "b c\n0\n"


def test_shift_out_of_range(m):
    r = m.sh("set -- a; shift 3")
    assert (r.exit_code, r.stderr) == (1, "bash: shift: 3: shift count out of range\n")


def test_colon_true_false(m):
    assert [m.sh(c).exit_code for c in (":", "true", "false")] == [0, 0, 1]


def test_type_and_command_v(m):
    r = m.sh("type cd ls if; command -v ls; command -v nope; echo $?")
    assert r.stdout == "cd is a shell builtin\nls is /usr/bin/ls\nif is a shell keyword\n/usr/bin/ls\n1\n"


def test_type_of_unknown_command(m):
    r = m.sh("type nope")
    assert (r.exit_code, r.stderr) == (1, "bash: type: nope: not found\n")


def test_trap_on_exit(m):
    assert m.sh("trap 'echo bye' EXIT; echo hi").stdout == "hi\nbye\n"


def test_let_and_declare(m):
    assert m.sh("let 'n = 2 * 3'; declare -i k=4+1; echo $n $k").stdout == "6 5\n"


def test_umask(m):
    assert m.sh("umask").stdout == "0002\n"
    assert m.sh("sudo bash -c umask").stdout == "0022\n"


# ---------------------------------------------------------------------------
# commands, exit codes and error messages


def test_command_not_found_in_bash(m):
    r = m.sh("foo")
    assert (r.exit_code, r.stderr) == (127, "bash: foo: command not found\n")


def test_command_not_found_in_sh(m):
    r = m.sh("sh -c foo")
    assert (r.exit_code, r.stderr) == (127, "sh: 1: foo: not found\n")


def test_missing_path(m):
    r = m.sh("./missing")
    assert (r.exit_code, r.stderr) == (127, "bash: ./missing: No such file or directory\n")


def test_not_executable(m):
    m.write_file("/home/student/s.sh", "echo hi\n")
    r = m.sh("./s.sh")
    assert (r.exit_code, r.stderr) == (126, "bash: ./s.sh: Permission denied\n")


def test_directory_is_not_a_command(m):
    r = m.sh("/etc")
    assert (r.exit_code, r.stderr) == (126, "bash: /etc: Is a directory\n")


def test_script_with_a_shebang_gets_its_arguments(m):
    m.write_file("/home/student/greet.sh", "#!/bin/bash\necho \"hi to $1 ($#)\"\nexit 5\n", mode=0o755)
    r = m.sh("./greet.sh bob")
    assert (r.exit_code, r.stdout) == (5, "hi to bob (1)\n")


def test_script_without_a_shebang_runs_in_a_shell(m):
    m.write_file("/home/student/plain", "echo plain $1\n", mode=0o755)
    assert m.sh("./plain x").stdout == "plain x\n"


def test_script_errors_name_the_line(m):
    m.write_file("/home/student/bad.sh", "#!/bin/bash\necho ok\nnosuchcmd\n", mode=0o755)
    r = m.sh("bash bad.sh")
    assert r.stderr == "bad.sh: line 3: nosuchcmd: command not found\n"


def test_bash_runs_a_script_file(m):
    m.write_file("/tmp/t.sh", "echo $#\n")
    assert m.sh("bash /tmp/t.sh a b").stdout == "2\n"


def test_bash_reads_commands_from_stdin(m):
    assert m.sh("echo 'echo from stdin' | bash").stdout == "from stdin\n"


def test_syntax_error_in_bash(m):
    r = m.sh("echo ;;")
    assert r.exit_code == 2
    assert r.stderr == "bash: -c: line 1: syntax error near unexpected token `;;'\nbash: -c: line 1: `echo ;;'\n"


def test_syntax_error_in_sh(m):
    r = m.sh("sh -c 'if true; then echo x'")
    assert r.exit_code == 2
    assert r.stderr == 'sh: 1: Syntax error: end of file unexpected (expecting "fi")\n'


def test_unterminated_quote(m):
    r = m.sh("echo 'oops")
    assert r.exit_code == 2
    assert r.stderr.startswith("bash: -c: line 1: unexpected EOF while looking for matching `''\n")


def test_syntax_error_on_a_later_line_runs_the_earlier_lines(m):
    r = m.sh("echo first\necho (")
    assert r.stdout == "first\n"
    assert r.exit_code == 2


def test_sh_has_no_bashisms(m):
    assert m.sh("sh -c 'source /etc/os-release'").stderr == "sh: 1: source: not found\n"
    assert m.sh("sh -c 'echo {a,b}'").stdout == "{a,b}\n"
    assert m.sh("sh -c '[ a == a ]'").stderr == "sh: 1: [: a: unexpected operator\n"


def test_dash_echo_interprets_escapes(m):
    assert m.sh("sh -c 'echo \"a\\tb\"'").stdout == "a\tb\n"
    assert m.sh("echo 'a\\tb'").stdout == "a\\tb\n"


def test_ctrl_c_after_the_timeout(world, m):
    r = m.sh("sleep 1000", timeout=30)
    assert r.exit_code == 130
    assert r.stderr.startswith("^C\n")
    assert world.now == 30
    assert "sleep" not in m.sh("ps").stdout


def test_runaway_loop_ends_at_the_timeout(world, m):
    r = m.sh("while true; do :; done", timeout=20)
    assert r.exit_code == 130


def test_killed_child_is_reported(m):
    r = m.sh("sleep 50 & kill -9 $!; wait $!; echo $?")
    assert r.stdout == "137\n"


def test_sleep_advances_simulated_time(world, m):
    before = world.now
    m.sh("sleep 5")
    assert world.now == before + 5


# ---------------------------------------------------------------------------
# the install guides, end to end

DOCKER_GPG = ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
              "mQINBFit2ioBEADhWpZ8/wvZ6hUTiXOwQHXMAlaFHcPH9hAtr4F1y2+OYdbtMuth\n"
              "=0YYh\n-----END PGP PUBLIC KEY BLOCK-----\n")


def test_docker_repository_setup(world, m):
    world.publish("https://download.docker.com/linux/ubuntu/gpg", DOCKER_GPG)
    assert m.sh("sudo install -m 0755 -d /etc/apt/keyrings").exit_code == 0
    r = m.sh("sudo curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc")
    assert r.exit_code == 0 and r.output == ""
    assert m.sh("sudo chmod a+r /etc/apt/keyrings/docker.asc").exit_code == 0
    r = m.sh('echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] '
             'https://download.docker.com/linux/ubuntu $(. /etc/os-release && echo "$VERSION_CODENAME") stable" '
             '| sudo tee /etc/apt/sources.list.d/docker.list > /dev/null')
    assert r.exit_code == 0 and r.output == ""
    assert m.read_file("/etc/apt/sources.list.d/docker.list") == (
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu jammy stable\n")
    assert m.read_file("/etc/apt/keyrings/docker.asc") == DOCKER_GPG


def test_kubeadm_prerequisites(world, m):
    r = m.sh("cat <<EOF | sudo tee /etc/modules-load.d/k8s.conf\noverlay\nbr_netfilter\nEOF")
    assert r.stdout == "overlay\nbr_netfilter\n"
    assert m.sh("sudo modprobe overlay && sudo modprobe br_netfilter").exit_code == 0
    m.sh("cat <<EOF | sudo tee /etc/sysctl.d/k8s.conf\nnet.bridge.bridge-nf-call-iptables  = 1\n"
         "net.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward                 = 1\nEOF")
    r = m.sh("sudo sysctl --system")
    assert "* Applying /etc/sysctl.d/k8s.conf ...\n" in r.stdout
    assert "net.ipv4.ip_forward = 1\n" in r.stdout
    assert m.kernel.sysctls["net.ipv4.ip_forward"] == "1"
    assert {"overlay", "br_netfilter"} <= m.kernel.modules
    assert m.sh("lsmod | grep br_netfilter").exit_code == 0


def test_swap_off_for_good(m):
    assert m.sh("sudo swapoff -a").exit_code == 0
    assert m.sh("sudo sed -i '/ swap / s/^\\(.*\\)$/#\\1/g' /etc/fstab").exit_code == 0
    assert "#/swap.img none swap sw 0 0\n" in m.read_file("/etc/fstab")
    assert m.kernel.swap_on is False
    m.sh("sudo swapon -a")
    assert m.kernel.swap_on is False


def test_kubernetes_key_and_kubeconfig(world, m):
    world.publish("https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key", DOCKER_GPG)
    r = m.sh("curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key "
             "| sudo gpg --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg")
    assert r.exit_code == 0, r.stderr
    assert m.fs.read("/etc/apt/keyrings/kubernetes-apt-keyring.gpg").startswith(b"\x99\x02\x0d\x04")
    m.sh("sudo mkdir -p /etc/kubernetes && echo 'apiVersion: v1' | sudo tee /etc/kubernetes/admin.conf >/dev/null "
         "&& sudo chmod 600 /etc/kubernetes/admin.conf")
    r = m.sh("mkdir -p $HOME/.kube && sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config "
             "&& sudo chown $(id -u):$(id -g) $HOME/.kube/config")
    assert r.exit_code == 0, r.stderr
    entry = m.fs.stat("/home/student/.kube/config")
    assert (entry.uid, entry.gid) == (1000, 1000)
    assert m.sh("cat ~/.kube/config").stdout == "apiVersion: v1\n"


def test_cp_i_asks_before_overwriting(m):
    m.sh("echo old > /tmp/dst; echo new > /tmp/src")
    r = m.sh("cp -i /tmp/src /tmp/dst")
    assert r.stderr == "cp: overwrite '/tmp/dst'? "
    assert m.read_file("/tmp/dst") == "old\n"
    m.sh("cp -i /tmp/src /tmp/dst", stdin="y\n")
    assert m.read_file("/tmp/dst") == "new\n"


# ---------------------------------------------------------------------------
# properties

SHELLISH = st.lists(st.sampled_from(
    list("ab01 \t\n;&|<>()$`'\"\\{}[]*?!#=~-/%:") +
    ["$(", "${", "$((", "<<", "EOF", "if ", "then ", "fi", "for ", " in ", "do ", "done", "case ", "esac", ";;",
     "echo ", "cat ", "[ ", " ]", "[[ ", "((", "f() ", "x=", "$x", "&&", "||", "2>&1", "> /tmp/f", "while ", "read ",
     "set -e;", "exec ", "eval ", "sudo ", "cd ", "export ", "local ", "return ", "break "]), max_size=20).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=40), SHELLISH))
def test_any_text_gives_a_shell_result(text):
    m = ak.World(seed=0).machine("m")
    r = m.sh(text, timeout=30)
    assert isinstance(r, ak.ShellResult)
    assert isinstance(r.exit_code, int) and 0 <= r.exit_code <= 255


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=60), SHELLISH))
def test_parse_returns_or_raises_the_library_error(text):
    try:
        script = parse(text)
    except ShellSyntaxError:
        return
    assert all(isinstance(c, ListNode) for c in script.commands)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30))
def test_a_quoted_value_round_trips(m, value):
    r = m.sh(f"v={shlex.quote(value)}; printf '%s' \"$v\"")
    assert r.stdout == value


def test_exec_keeps_the_process_id(m):
    r = m.sh("echo $$; exec ps -o pid=,comm= -p $$")
    pid = r.stdout.split()[0]
    assert r.stdout.split()[1:] == [pid, "ps"]


def test_quoted_at_in_an_assignment_joins_with_spaces(m):
    assert m.sh('set -- a b; x="$@"; echo "[$x]"').stdout == "[a b]\n"


def test_set_e_does_not_apply_inside_a_condition_function(m):
    r = m.sh("set -e; f() { false; echo inside; }; if f; then echo then; fi; echo end")
    assert r.stdout == "inside\nthen\nend\n"


def test_getopts(m):
    r = m.sh('while getopts "ab:c" o -a -b val -c; do echo "$o=${OPTARG:-}"; done')
    assert r.stdout == "a=\nb=val\nc=\n"


def test_funcname(m):
    assert m.sh("deploy() { echo $FUNCNAME; }; deploy").stdout == "deploy\n"


def test_kill_a_job_spec(m):
    r = m.sh("sleep 100 & kill %1; wait; jobs; echo ok")
    assert r.stdout == "ok\n"


def test_a_shell_as_pid_1_ignores_sigterm(m):
    from aivle_k8s.linux.fs import FileSystem
    from aivle_k8s.linux.distro import ubuntu_layer
    from aivle_k8s.linux.kernel import Namespaces, PidNamespace

    m.sh(":")
    ns = Namespaces(FileSystem([ubuntu_layer("c")]), "c", PidNamespace(m.kernel.host_pidns), None, name="c")
    init = m.kernel.spawn(["sh", "-c", "sleep 100"], ns=ns, env={"PATH": "/usr/bin:/bin"}, cwd="/")
    assert init.local_pid == 1
    m.kernel.signal(init.pid, "TERM")
    assert init.alive  # the classic `docker stop` wait: PID 1 has no handler for SIGTERM
    m.kernel.signal(init.pid, "KILL")
    assert not init.alive
