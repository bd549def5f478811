"""The core utilities, as a student types them: output, flags, error messages and exit codes."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aivle_k8s.linux import coreutils
from aivle_k8s.linux.distro import ubuntu_layer
from aivle_k8s.linux.fs import FileSystem
from aivle_k8s.linux.kernel import Namespaces, PidNamespace, Stream

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture
def m(world):
    return world.machine("m")


def run_in(machine, ns, command, uid=0):
    """Run ``sh -c command`` in namespaces ``ns`` on the machine's kernel (like ``docker exec``)."""
    out, err = Stream(), Stream()
    proc = machine.kernel.spawn(["sh", "-c", command], ns=ns, env={"PATH": PATH, "HOME": "/root"}, cwd="/",
                                stdout=out, stderr=err, uid=uid)
    machine.world.loop.run_until(lambda: not proc.alive, timeout=60)
    return proc.exit_code, out.text(), err.text()


@pytest.fixture
def container(world, m):
    """A container-like set of namespaces on ``m``: own rootfs, hostname, pid namespace and network."""
    m.sh(":")  # the machine has run something before: the container's init is not host pid 1
    pidns = PidNamespace(m.kernel.host_pidns, name="web")
    net = world.net.namespace("web", ["172.17.0.2"], node="m", scope="m")
    ns = Namespaces(FileSystem([ubuntu_layer("web")]), "web", pidns, net, name="web")
    init = m.kernel.spawn(["sleep", "infinity"], ns=ns, env={"PATH": PATH}, cwd="/")
    return ns, init


# ---------------------------------------------------------------------------
# echo, cat, printf


def test_echo_options(m):
    assert m.sh("echo -n a; echo b").stdout == "ab\n"
    assert m.sh("echo -e 'x\\ty'").stdout == "x\ty\n"
    assert m.sh("/usr/bin/echo hi there").stdout == "hi there\n"


def test_cat_concatenates_and_reads_stdin(m):
    m.write_file("/tmp/a", "A\n")
    assert m.sh("echo B | cat /tmp/a -").stdout == "A\nB\n"


def test_cat_missing_file(m):
    r = m.sh("cat /nope /etc/hostname")
    assert (r.exit_code, r.stdout, r.stderr) == (1, "m\n", "cat: /nope: No such file or directory\n")


def test_cat_number_lines(m):
    assert m.sh("printf 'a\\nb\\n' | cat -n").stdout == "     1\ta\n     2\tb\n"


def test_cat_permission_denied(m):
    r = m.sh("cat /swap.img")
    assert (r.exit_code, r.stderr) == (1, "cat: /swap.img: Permission denied\n")


def test_printf_formats(m):
    r = m.sh("printf '%s=%d %5.1f|%-3s|%03d %x %%\\n' a 42 3.14159 b 7 255")
    assert r.stdout == "a=42   3.1|b  |007 ff %\n"


def test_printf_reuses_the_format(m):
    assert m.sh("printf '%s\\n' x y z").stdout == "x\ny\nz\n"


def test_printf_invalid_number(m):
    r = m.sh("printf '%d\\n' abc")
    assert (r.exit_code, r.stdout, r.stderr) == (1, "0\n", "bash: printf: abc: invalid number\n")


# ---------------------------------------------------------------------------
# ls


def test_ls_lists_names_one_per_line_into_a_pipe(m):
    m.sh("mkdir ~/d && touch ~/d/b ~/d/a ~/d/.hidden")
    assert m.sh("ls ~/d | cat").stdout == "a\nb\n"


def test_ls_on_the_terminal_prints_columns(m):
    m.sh("mkdir ~/d && touch ~/d/one ~/d/two ~/d/three")
    assert m.sh("ls ~/d").stdout == "one  three  two\n"


def test_ls_all_shows_hidden_and_dot_entries(m):
    r = m.sh("ls -a1 ~")
    assert r.stdout == ".\n..\n.bashrc\n"


def test_ls_long_format(m):
    m.write_file("/home/student/notes.txt", "hello\n")
    r = m.sh("ls -l ~")
    assert r.stdout == "total 4\n-rw-r--r-- 1 student student 6 Mar  3 09:00 notes.txt\n"


def test_ls_long_shows_symlinks_directories_and_sticky_bits(m):
    r = m.sh("ls -ld /tmp /bin /root")
    assert r.stdout.splitlines() == [
        "lrwxrwxrwx 1 root root    7 Mar  3 09:00 /bin -> usr/bin",
        "drwx------ 2 root root 4096 Mar  3 09:00 /root",
        "drwxrwxrwt 2 root root 4096 Mar  3 09:00 /tmp",
    ]


def test_ls_time_follows_simulated_time(world, m):
    world.advance(3600)
    m.sh("touch ~/later")
    assert "Mar  3 10:00 later" in m.sh("ls -l ~").stdout


def test_ls_human_sizes(m):
    m.write_file("/tmp/big", "x" * 5000)
    assert " 4.9K " in m.sh("ls -lh /tmp/big").stdout


def test_ls_missing_path(m):
    r = m.sh("ls nothing")
    assert (r.exit_code, r.stderr) == (2, "ls: cannot access 'nothing': No such file or directory\n")


def test_ls_unreadable_directory(m):
    r = m.sh("ls /root")
    assert (r.exit_code, r.stderr) == (2, "ls: cannot open directory '/root': Permission denied\n")
    assert m.sh("sudo ls /root").exit_code == 0


def test_ls_recursive(m):
    m.sh("mkdir -p ~/r/sub && touch ~/r/f ~/r/sub/g")
    assert m.sh("cd ~ && ls -R r | cat").stdout == "r:\nf\nsub\n\nr/sub:\ng\n"


# ---------------------------------------------------------------------------
# files and directories


def test_mkdir_and_parents(m):
    assert m.sh("mkdir -p ~/a/b/c && ls -d ~/a/b/c").stdout == "/home/student/a/b/c\n"
    assert m.fs.stat("/home/student/a/b").uid == 1000


def test_mkdir_errors(m):
    assert m.sh("mkdir ~").stderr == "mkdir: cannot create directory \u2018/home/student\u2019: File exists\n"
    assert m.sh("mkdir /x/y").stderr == "mkdir: cannot create directory \u2018/x/y\u2019: No such file or directory\n"
    r = m.sh("mkdir /etc/new")
    assert (r.exit_code, r.stderr) == (1, "mkdir: cannot create directory \u2018/etc/new\u2019: Permission denied\n")


def test_mkdir_mode(m):
    m.sh("mkdir -m 700 ~/private")
    assert m.fs.stat("/home/student/private").mode == 0o700


def test_rm_files_and_trees(m):
    m.sh("mkdir -p ~/t/x && touch ~/t/x/f ~/g")
    assert m.sh("rm ~/t").stderr == "rm: cannot remove '/home/student/t': Is a directory\n"
    assert m.sh("rm -r ~/t ~/g").exit_code == 0
    assert not m.fs.exists("/home/student/t") and not m.fs.exists("/home/student/g")


def test_rm_missing_file(m):
    r = m.sh("rm nope")
    assert (r.exit_code, r.stderr) == (1, "rm: cannot remove 'nope': No such file or directory\n")
    assert m.sh("rm -f nope").exit_code == 0


def test_rm_needs_permission_on_the_directory(m):
    r = m.sh("rm /etc/hosts")
    assert (r.exit_code, r.stderr) == (1, "rm: cannot remove '/etc/hosts': Permission denied\n")
    assert m.fs.exists("/etc/hosts")


def test_rm_refuses_the_root_directory(m):
    r = m.sh("sudo rm -rf /")
    assert r.exit_code == 1
    assert "it is dangerous to operate recursively on '/'" in r.stderr
    assert m.fs.exists("/etc/hosts")


def test_rmdir(m):
    m.sh("mkdir -p ~/e/f")
    assert m.sh("rmdir ~/e").stderr == "rmdir: failed to remove '/home/student/e': Directory not empty\n"
    assert m.sh("rmdir ~/e/f ~/e").exit_code == 0


def test_cp_file_and_directory(m):
    m.sh("mkdir -p ~/src/in && echo data > ~/src/in/f")
    assert m.sh("cp ~/src ~/dst").stderr == "cp: -r not specified; omitting directory '/home/student/src'\n"
    assert m.sh("cp -r ~/src ~/dst && cat ~/dst/in/f").stdout == "data\n"
    assert m.sh("cp ~/src/in/f ~/copy && cat ~/copy").stdout == "data\n"


def test_cp_into_a_directory(m):
    m.sh("mkdir ~/d && echo 1 > ~/f")
    m.sh("cp ~/f ~/d")
    assert m.read_file("/home/student/d/f") == "1\n"


def test_cp_missing_source_creates_nothing(m):
    before = m.fs.diff()
    r = m.sh("cp missing ~/x")
    assert (r.exit_code, r.stderr) == (1, "cp: cannot stat 'missing': No such file or directory\n")
    assert m.fs.diff() == before


def test_cp_as_student_cannot_write_system_files(m):
    r = m.sh("cp /etc/hosts /etc/hosts2")
    assert r.stderr == "cp: cannot create regular file '/etc/hosts2': Permission denied\n"
    assert m.sh("sudo cp /etc/hosts /etc/hosts2").exit_code == 0
    assert m.fs.stat("/etc/hosts2").uid == 0


def test_mv_renames_and_moves(m):
    m.sh("echo v > ~/a && mkdir ~/dir")
    assert m.sh("mv ~/a ~/b && mv ~/b ~/dir && cat ~/dir/b").stdout == "v\n"
    assert m.sh("mv ~/nope ~/x").stderr == "mv: cannot stat '/home/student/nope': No such file or directory\n"


def test_touch_creates_and_reports_errors(m):
    assert m.sh("touch ~/new && ls ~/new").exit_code == 0
    r = m.sh("touch /etc/x")
    assert (r.exit_code, r.stderr) == (1, "touch: cannot touch '/etc/x': Permission denied\n")
    assert m.sh("touch /nope/x").stderr == "touch: cannot touch '/nope/x': No such file or directory\n"


def test_ln_and_readlink(m):
    m.sh("echo t > ~/target && ln -s ~/target ~/link")
    assert m.sh("readlink ~/link; cat ~/link").stdout == "/home/student/target\nt\n"
    assert m.sh("ln -s ~/target ~/link").stderr == "ln: failed to create symbolic link '/home/student/link': File exists\n"
    assert m.sh("readlink -f /bin/sh").stdout == "/usr/bin/sh\n"


def test_chmod_octal_and_symbolic(m):
    m.sh("touch ~/s")
    m.sh("chmod 750 ~/s")
    assert m.fs.stat("/home/student/s").mode == 0o750
    m.sh("chmod u-w,o+r ~/s")
    assert m.fs.stat("/home/student/s").mode == 0o554
    m.sh("chmod +x ~/s")
    assert m.fs.stat("/home/student/s").mode == 0o555


def test_chmod_of_a_foreign_file(m):
    r = m.sh("chmod 777 /etc/hosts")
    assert (r.exit_code, r.stderr) == (1, "chmod: changing permissions of '/etc/hosts': Operation not permitted\n")


def test_chown_needs_root(m):
    m.sh("touch ~/o")
    r = m.sh("chown root ~/o")
    assert r.stderr == "chown: changing ownership of '/home/student/o': Operation not permitted\n"
    assert m.sh("sudo chown root:root ~/o").exit_code == 0
    assert (m.fs.stat("/home/student/o").uid, m.fs.stat("/home/student/o").gid) == (0, 0)
    assert m.sh("sudo chown nobody ~/o").stderr == "chown: invalid user: \u2018nobody\u2019\n"


def test_install_makes_directories_and_copies_with_a_mode(m):
    assert m.sh("sudo install -m 0755 -d /etc/apt/keyrings /opt/tools").exit_code == 0
    assert m.fs.stat("/opt/tools").mode == 0o755
    m.write_file("/tmp/tool", "#!/bin/sh\necho tool\n")
    assert m.sh("sudo install /tmp/tool /usr/local/bin/tool && tool").stdout == "tool\n"
    assert m.fs.stat("/usr/local/bin/tool").mode == 0o755


def test_stat(m):
    r = m.sh("stat -c '%a %U %G %s %F %n' /etc/hosts /tmp")
    assert r.stdout == "644 root root 32 regular file /etc/hosts\n1777 root root 4096 directory /tmp\n"
    assert m.sh("stat /nope").stderr == "stat: cannot statx '/nope': No such file or directory\n"


def test_dirname_basename(m):
    r = m.sh("dirname /a/b/c.txt; basename /a/b/c.txt .txt; dirname file; basename /")
    assert r.stdout == "/a/b\nc\n.\n/\n"


def test_pwd(m):
    assert m.sh("cd /etc && pwd && /usr/bin/pwd").stdout == "/etc\n/etc\n"


# ---------------------------------------------------------------------------
# text processing


def test_wc(m):
    m.write_file("/tmp/w", "one two\nthree\n")
    assert m.sh("wc -l /tmp/w").stdout == "2 /tmp/w\n"
    assert m.sh("wc < /tmp/w").stdout == "      2       3      14\n"
    assert m.sh("wc -w -c /tmp/w").stdout == " 3 14 /tmp/w\n"


def test_grep_flags(m):
    m.write_file("/tmp/g", "Alpha\nbeta\ngamma beta\n")
    assert m.sh("grep beta /tmp/g").stdout == "beta\ngamma beta\n"
    assert m.sh("grep -i alpha /tmp/g").stdout == "Alpha\n"
    assert m.sh("grep -v beta /tmp/g").stdout == "Alpha\n"
    assert m.sh("grep -c beta /tmp/g").stdout == "2\n"
    assert m.sh("grep -n gamma /tmp/g").stdout == "3:gamma beta\n"
    assert m.sh("grep -o 'b[a-z]*' /tmp/g").stdout == "beta\nbeta\n"
    assert m.sh("grep -w bet /tmp/g").exit_code == 1
    assert m.sh("grep -E '^(Alpha|beta)$' /tmp/g").stdout == "Alpha\nbeta\n"
    assert m.sh("grep -q gamma /tmp/g").output == ""


def test_grep_exit_codes(m):
    assert m.sh("grep zzz /etc/hosts").exit_code == 1
    r = m.sh("grep x /nope")
    assert (r.exit_code, r.stderr) == (2, "grep: /nope: No such file or directory\n")


def test_grep_recursive_and_list(m):
    m.sh("mkdir -p ~/proj/sub && echo needle > ~/proj/a && echo hay > ~/proj/b && echo needle > ~/proj/sub/c")
    assert m.sh("cd ~ && grep -rl needle proj").stdout == "proj/a\nproj/sub/c\n"
    assert m.sh("cd ~/proj && grep -r needle .").stdout == "./a:needle\n./sub/c:needle\n"


def test_grep_basic_regex(m):
    assert m.sh("echo 'a+b (x)' | grep 'a+b (x)'").exit_code == 0
    assert m.sh("echo 'aaa' | grep -c 'a\\{3\\}'").stdout == "1\n"


def test_head_and_tail(m):
    m.sh("seq 1 20 > /tmp/n")
    assert m.sh("head -n 3 /tmp/n").stdout == "1\n2\n3\n"
    assert m.sh("head -2 /tmp/n").stdout == "1\n2\n"
    assert m.sh("tail -n 2 /tmp/n").stdout == "19\n20\n"
    assert m.sh("tail -n +19 /tmp/n").stdout == "19\n20\n"
    assert m.sh("head -c 3 /tmp/n").stdout == "1\n2"
    assert m.sh("head /nope").stderr == "head: cannot open '/nope' for reading: No such file or directory\n"


def test_tail_follow_prints_appended_lines(world, m):
    m.sh("echo first > /tmp/log")
    m.sh("tail -f /tmp/log > /tmp/seen &")
    world.advance(1)
    m.sh("echo second >> /tmp/log")
    world.advance(2)
    assert m.read_file("/tmp/seen") == "first\nsecond\n"


def test_tee_and_append(m):
    assert m.sh("echo a | tee /tmp/t1").stdout == "a\n"
    m.sh("echo b | tee -a /tmp/t1 > /dev/null")
    assert m.read_file("/tmp/t1") == "a\nb\n"


def test_tee_permission_denied_still_copies_to_stdout(m):
    r = m.sh("echo x | tee /etc/x")
    assert (r.exit_code, r.stdout, r.stderr) == (1, "x\n", "tee: /etc/x: Permission denied\n")


def test_sed_substitute(m):
    assert m.sh("echo hello world | sed 's/o/0/'").stdout == "hell0 world\n"
    assert m.sh("echo hello world | sed 's/o/0/g'").stdout == "hell0 w0rld\n"
    assert m.sh("echo Hello | sed 's/hello/bye/I'").stdout == "bye\n"
    assert m.sh("echo abc | sed -E 's/(a)(b)/\\2\\1/'").stdout == "bac\n"
    assert m.sh("echo abc | sed 's/b/[&]/'").stdout == "a[b]c\n"
    assert m.sh("echo a/b | sed 's|/|:|'").stdout == "a:b\n"


def test_sed_basic_regex_groups(m):
    assert m.sh("echo 'key = value' | sed 's/^\\(.*\\) = \\(.*\\)$/\\2=\\1/'").stdout == "value=key\n"


def test_sed_addresses_print_and_delete(m):
    m.sh("seq 1 6 > /tmp/s")
    assert m.sh("sed -n '2,4p' /tmp/s").stdout == "2\n3\n4\n"
    assert m.sh("sed '1d;$d' /tmp/s").stdout == "2\n3\n4\n5\n"
    assert m.sh("sed -n '/3/,/5/p' /tmp/s").stdout == "3\n4\n5\n"
    assert m.sh("sed '/[246]/!d' /tmp/s").stdout == "2\n4\n6\n"
    assert m.sh("sed -n '$p' /tmp/s").stdout == "6\n"


def test_sed_append_insert_change(m):
    assert m.sh("printf 'a\\nb\\n' | sed '1a\\\nnew'").stdout == "a\nnew\nb\n"
    assert m.sh("printf 'a\\nb\\n' | sed '2i before'").stdout == "a\nbefore\nb\n"
    assert m.sh("printf 'a\\nb\\n' | sed '/a/c changed'").stdout == "changed\nb\n"


def test_sed_in_place_comments_out_swap(m):
    r = m.sh("sudo sed -i '/ swap / s/^\\(.*\\)$/#\\1/g' /etc/fstab")
    assert r.exit_code == 0
    assert m.read_file("/etc/fstab") == "UUID=3d1f2c9a / ext4 errors=remount-ro 0 1\n#/swap.img none swap sw 0 0\n"


def test_sed_in_place_needs_permission(m):
    r = m.sh("sed -i 's/a/b/' /etc/fstab")
    assert r.exit_code == 4
    assert r.stderr.startswith("sed: couldn't open temporary file /etc/sed")
    assert r.stderr.endswith(": Permission denied\n")


def test_sed_errors(m):
    r = m.sh("echo x | sed 's/a/b'")
    assert (r.exit_code, r.stderr) == (1, "sed: -e expression #1, char 5: unterminated `s' command\n")
    r = m.sh("sed p /nope")
    assert (r.exit_code, r.stderr) == (2, "sed: can't read /nope: No such file or directory\n")


def test_sort_options(m):
    m.write_file("/tmp/so", "b 10\na 9\nc 100\na 9\n")
    assert m.sh("sort /tmp/so").stdout == "a 9\na 9\nb 10\nc 100\n"
    assert m.sh("sort -u /tmp/so").stdout == "a 9\nb 10\nc 100\n"
    assert m.sh("sort -k2 -n /tmp/so").stdout == "a 9\na 9\nb 10\nc 100\n"
    assert m.sh("sort -k2nr /tmp/so").stdout == "c 100\nb 10\na 9\na 9\n"
    assert m.sh("printf '3\\n20\\n1\\n' | sort -n -r").stdout == "20\n3\n1\n"
    assert m.sh("printf 'x:2\\ny:1\\n' | sort -t: -k2").stdout == "y:1\nx:2\n"


def test_uniq(m):
    m.write_file("/tmp/u", "a\na\nb\na\n")
    assert m.sh("uniq /tmp/u").stdout == "a\nb\na\n"
    assert m.sh("sort /tmp/u | uniq -c").stdout == "      3 a\n      1 b\n"
    assert m.sh("sort /tmp/u | uniq -d").stdout == "a\n"


def test_cut(m):
    assert m.sh("cut -d: -f1,7 /etc/passwd").stdout == "root:/bin/bash\nstudent:/bin/bash\n"
    assert m.sh("echo abcdef | cut -c2-4").stdout == "bcd\n"
    assert m.sh("cut -f1 /etc/passwd -d").exit_code == 1


def test_tr(m):
    assert m.sh("echo hello | tr a-z A-Z").stdout == "HELLO\n"
    assert m.sh("echo 'a  b   c' | tr -s ' '").stdout == "a b c\n"
    assert m.sh("echo hello | tr -d l").stdout == "heo\n"
    assert m.sh("echo Hello | tr '[:upper:]' '[:lower:]'").stdout == "hello\n"


def test_seq(m):
    assert m.sh("seq 3").stdout == "1\n2\n3\n"
    assert m.sh("seq 2 2 6").stdout == "2\n4\n6\n"
    assert m.sh("seq -s, 3").stdout == "1,2,3\n"
    assert m.sh("seq -w 8 10").stdout == "08\n09\n10\n"


def test_find(m):
    m.sh("mkdir -p ~/f/sub && touch ~/f/a.txt ~/f/b.log ~/f/sub/c.txt")
    assert m.sh("cd ~ && find f -name '*.txt'").stdout == "f/a.txt\nf/sub/c.txt\n"
    assert m.sh("cd ~ && find f -type d").stdout == "f\nf/sub\n"
    assert m.sh("cd ~ && find f -maxdepth 1 -type f").stdout == "f/a.txt\nf/b.log\n"
    assert m.sh("cd ~ && find f -name '*.txt' -exec echo found {} \\;").stdout == "found f/a.txt\nfound f/sub/c.txt\n"
    assert m.sh("cd ~ && find f -not -name '*.txt' -type f").stdout == "f/b.log\n"
    assert m.sh("find /nope").stderr == "find: \u2018/nope\u2019: No such file or directory\n"


def test_find_delete(m):
    m.sh("mkdir -p ~/junk/x && touch ~/junk/x/1.tmp ~/junk/keep")
    m.sh("find ~/junk -name '*.tmp' -delete")
    assert m.sh("find ~/junk -type f").stdout == "/home/student/junk/keep\n"


def test_xargs(m):
    assert m.sh("echo a b c | xargs echo got").stdout == "got a b c\n"
    assert m.sh("printf '1\\n2\\n' | xargs -n 1 echo n").stdout == "n 1\nn 2\n"
    assert m.sh("printf 'x\\ny\\n' | xargs -I{} echo '<{}>'").stdout == "<x>\n<y>\n"
    r = m.sh("echo a | xargs nosuchcmd")
    assert (r.exit_code, r.stderr) == (127, "xargs: nosuchcmd: No such file or directory\n")


def test_xargs_with_find(m):
    m.sh("mkdir ~/x && touch ~/x/1 ~/x/2")
    assert m.sh("find ~/x -type f | xargs rm && ls ~/x | wc -l").stdout == "0\n"


# ---------------------------------------------------------------------------
# test / [


@pytest.mark.parametrize("expr, code", [
    ("-f /etc/hosts", 0), ("-f /etc", 1), ("-d /etc", 0), ("-e /nope", 1), ("-x /usr/bin/ls", 0),
    ("-s /etc/hosts", 0), ("-z ''", 0), ("-n ''", 1), ("abc = abc", 0), ("abc != abc", 1),
    ("2 -eq 2", 0), ("2 -ne 2", 1), ("1 -lt 2", 0), ("3 -gt 2", 0), ("2 -le 2", 0), ("1 -ge 2", 1),
    ("! -f /nope", 0), ("-f /etc/hosts -a -d /tmp", 0), ("-f /nope -o -d /tmp", 0), ("x", 0), ("''", 1),
    ("-w /etc/hosts", 1), ("-w /tmp", 0), ("-r /root", 1),
])
def test_test_expressions(m, expr, code):
    assert m.sh(f"[ {expr} ]").exit_code == code
    assert m.sh(f"test {expr}").exit_code == code


def test_test_errors(m):
    assert m.sh("[ 1 -eq 1").stderr == "bash: [: missing `]'\n"
    r = m.sh("[ abc -eq 1 ]")
    assert (r.exit_code, r.stderr) == (2, "bash: [: abc: integer expression expected\n")
    assert m.sh("[ a b c ]").stderr == "bash: [: b: binary operator expected\n"


def test_test_as_a_program(m):
    assert m.sh("/usr/bin/[ 1 -lt 2 ]").exit_code == 0
    assert m.sh("/usr/bin/test -d /etc").exit_code == 0


# ---------------------------------------------------------------------------
# identity, system information, processes


def test_id_and_whoami(m):
    assert m.sh("id").stdout == "uid=1000(student) gid=1000(student) groups=1000(student),27(sudo)\n"
    assert m.sh("id -u; id -un; id -g; id -Gn").stdout == "1000\nstudent\n1000\nstudent sudo\n"
    assert m.sh("whoami; sudo whoami; sudo id").stdout == "student\nroot\nuid=0(root) gid=0(root) groups=0(root)\n"
    assert m.sh("id nobody").stderr == "id: 'nobody': no such user\n"


def test_hostname(m):
    assert m.sh("hostname").stdout == "m\n"
    assert m.sh("hostname -I").stdout == "10.0.0.10 \n"
    assert m.sh("hostname other").stderr == "hostname: you must be root to change the host name\n"


def test_uname(m):
    assert m.sh("uname").stdout == "Linux\n"
    assert m.sh("uname -r").stdout == "5.15.0-105-generic\n"
    assert m.sh("uname -m -n").stdout == "m x86_64\n"
    assert m.sh("uname -a").stdout.startswith("Linux m 5.15.0-105-generic #")
    assert m.sh("uname -a").stdout.endswith(" x86_64 x86_64 x86_64 GNU/Linux\n")


def test_a_container_shares_the_kernel_but_not_the_hostname(m, container):
    ns, _ = container
    assert run_in(m, ns, "uname -r")[1] == "5.15.0-105-generic\n"
    assert run_in(m, ns, "hostname")[1] == "web\n"
    assert m.sh("hostname").stdout == "m\n"


def test_ps_in_a_container_sees_its_own_pid_1(m, container):
    ns, init = container
    code, out, _ = run_in(m, ns, "ps -ef")
    lines = out.splitlines()
    assert lines[0] == "UID          PID    PPID  C STIME TTY          TIME CMD"
    assert lines[1].split()[:2] == ["root", "1"]
    assert lines[1].endswith("sleep infinity")
    assert all("bash -c" not in line for line in lines)


def test_ps_on_the_host_sees_container_processes_with_host_pids(m, container):
    ns, init = container
    out = m.sh("ps aux").stdout
    row = next(line for line in out.splitlines() if line.endswith("sleep infinity"))
    assert row.split()[1] == str(init.pid)
    assert init.pid != 1


def test_ps_default_shows_the_session(m):
    r = m.sh("ps")
    lines = r.stdout.splitlines()
    assert lines[0] == "    PID TTY          TIME CMD"
    assert [line.split()[-1] for line in lines[1:]] == ["bash", "ps"]
    assert all(" pts/0 " in line for line in lines[1:])


def test_ps_output_format(m):
    r = m.sh("sleep 30 & ps -o pid,comm")
    assert r.stdout.splitlines()[0].split() == ["PID", "COMMAND"]
    assert "sleep" in r.stdout


def test_kill_a_background_job(m):
    r = m.sh("sleep 100 & kill $!; wait $!; echo $?")
    assert r.stdout == "143\n"


def test_kill_errors(m):
    r = m.sh("kill 99999")
    assert (r.exit_code, r.stderr) == (1, "bash: kill: (99999) - No such process\n")
    assert m.sh("kill -l 9").stdout == "KILL\n"
    assert m.sh("kill -FOO 1").stderr == "bash: kill: FOO: invalid signal specification\n"


def test_kill_another_users_process_is_not_permitted(m, container):
    ns, init = container
    r = m.sh(f"kill {init.pid}")
    assert r.stderr == f"bash: kill: ({init.pid}) - Operation not permitted\n"
    assert init.alive


def test_kill_in_a_container_uses_container_pids(m, container):
    ns, init = container
    m.kernel.spawn(["sleep", "500"], ns=ns, env={"PATH": PATH}, cwd="/")
    code, _, err = run_in(m, ns, "kill -9 2")
    assert code == 0, err
    assert [p.argv for p in m.kernel.ps(ns.pid)] == [["sleep", "infinity"]]


def test_sleep(world, m):
    m.sh("sleep 1.5")
    assert world.now == 1.5
    m.sh("sleep 1m")
    assert world.now == 61.5
    r = m.sh("sleep abc")
    assert (r.exit_code, r.stderr) == (1, "sleep: invalid time interval \u2018abc\u2019\n"
                                          "Try 'sleep --help' for more information.\n")


def test_sleep_infinity_until_interrupted(world, m):
    r = m.sh("sleep infinity", timeout=5)
    assert r.exit_code == 130


def test_timeout(world, m):
    r = m.sh("timeout 3 sleep 10")
    assert r.exit_code == 124
    assert world.now == 3
    assert m.sh("timeout 3 sleep 1").exit_code == 0
    assert m.sh("timeout 1 nope").stderr == "timeout: failed to run command \u2018nope\u2019: No such file or directory\n"


def test_date_uses_simulated_time(world, m):
    assert m.sh("date").stdout == "Mon Mar  3 09:00:00 UTC 2025\n"
    world.advance(90)
    assert m.sh("date +%H:%M:%S").stdout == "09:01:30\n"
    assert m.sh("date -u +%s").stdout == "1740992490\n"
    assert m.sh("date -d @0 +%Y").stdout == "1970\n"


def test_env_and_which(m):
    assert "USER=student\n" in m.sh("env").stdout
    assert m.sh("env -i A=1 env").stdout == "A=1\n"
    assert m.sh("which ls").stdout == "/usr/bin/ls\n"
    r = m.sh("which nope")
    assert (r.exit_code, r.output) == (1, "")


def test_nproc_and_free(world):
    big = world.machine("big", cpus=8, memory="16Gi")
    assert big.sh("nproc").stdout == "8\n"
    lines = big.sh("free -h").stdout.splitlines()
    assert lines[0] == "               total        used        free      shared  buff/cache   available"
    assert lines[1].split()[:2] == ["Mem:", "16Gi"]
    assert lines[2].split() == ["Swap:", "2.0Gi", "0B", "2.0Gi"]


def test_free_after_swapoff(m):
    m.sh("sudo swapoff -a")
    assert m.sh("free -m").stdout.splitlines()[2].split() == ["Swap:", "0", "0", "0"]


def test_df_and_du(m):
    r = m.sh("df -h /")
    assert r.stdout.splitlines()[0].split() == ["Filesystem", "Size", "Used", "Avail", "Use%", "Mounted", "on"]
    assert r.stdout.splitlines()[1].startswith("/dev/sda1 ")
    m.write_file("/home/student/blob", "x" * 10000)
    assert m.sh("du -sh ~/blob").stdout == "12K\t/home/student/blob\n"
    assert m.sh("du -s ~").stdout == "20\t/home/student\n"


def test_mount_lists_filesystems(m):
    assert "/dev/sda1 on / type ext4" in m.sh("mount").stdout
    assert m.sh("mount --bind /tmp /mnt").stderr == "mount: /mnt: must be superuser to use mount.\n"


# ---------------------------------------------------------------------------
# permissions


def test_can_write_follows_the_mode_bits(m):
    student = m.kernel.spawn(["sleep", "9"], ns=m.ns, env={"PATH": PATH}, cwd="/", uid=1000)
    root = m.kernel.spawn(["sleep", "9"], ns=m.ns, env={"PATH": PATH}, cwd="/", uid=0)
    assert coreutils.can_write(student, "/home/student/x")
    assert coreutils.can_write(student, "/tmp/x")
    assert not coreutils.can_write(student, "/etc/x")
    assert not coreutils.can_write(student, "/etc/hosts")
    assert not coreutils.can_write(student, "/root/x")
    assert coreutils.can_write(root, "/etc/hosts")


# ---------------------------------------------------------------------------
# properties

NAMES = st.from_regex(r"[a-z][a-z0-9_.-]{0,12}", fullmatch=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, command=st.sampled_from(["cp", "mv", "ln", "cat"]))
def test_a_failed_copy_changes_nothing(m, name, command):
    before = dict(m.fs.diff())
    r = m.sh(f"{command} /nonexistent/{name} ~/{name}-copy")
    assert r.exit_code != 0
    assert dict(m.fs.diff()) == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, command=st.sampled_from(["touch /etc/{}", "mkdir /etc/{}", "rm /etc/hosts", "cp /etc/hosts /etc/{}",
                                            "mv /etc/hosts /tmp/{}", "echo x > /usr/{}", "tee /root/{} </dev/null",
                                            "chmod 777 /etc/hosts", "ln -s /x /etc/{}", "install -d /opt/{}"]))
def test_a_student_cannot_change_system_files(m, name, command):
    before = dict(m.fs.diff())
    r = m.sh(command.format(name))
    assert r.exit_code != 0
    assert "Permission denied" in r.stderr or "not permitted" in r.stderr
    assert dict(m.fs.diff()) == before


LINES = st.lists(st.from_regex(r"[A-Za-z0-9 _.-]{0,12}", fullmatch=True), max_size=15)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES)
def test_text_tools_agree_with_python(m, lines):
    m.write_file("/tmp/lines", "".join(line + "\n" for line in lines))
    assert m.sh("wc -l < /tmp/lines").stdout == f"{len(lines)}\n"
    assert m.sh("sort /tmp/lines").stdout == "".join(x + "\n" for x in sorted(lines))
    assert m.sh("head -n 3 /tmp/lines").stdout == "".join(x + "\n" for x in lines[:3])
    assert m.sh("tail -n 2 /tmp/lines").stdout == "".join(x + "\n" for x in (lines[-2:] if lines else []))
    assert m.sh("cat /tmp/lines | tr a-z A-Z").stdout == "".join(x.upper() + "\n" for x in lines)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(needle=st.from_regex(r"[a-z.*+?]{1,4}", fullmatch=True), lines=LINES)
def test_grep_fixed_strings_is_substring_search(m, needle, lines):
    m.write_file("/tmp/hay", "".join(line + "\n" for line in lines))
    expected = [x for x in lines if needle in x]
    r = m.sh(f"grep -F -- '{needle}' /tmp/hay")
    assert r.stdout == "".join(x + "\n" for x in expected)
    assert r.exit_code == (0 if expected else 1)


def test_sed_hold_space_reverses_lines(m):
    assert m.sh("printf '1\\n2\\n3\\n' | sed -n '1!G;h;$p'").stdout == "3\n2\n1\n"


def test_sed_next_line_joins(m):
    assert m.sh("printf 'a\\nb\\nc\\n' | sed -n 'N;N;s/\\n/,/gp'").stdout == "a,b,c\n"


def test_find_exec_plus_batches(m):
    m.sh("mkdir ~/q && touch ~/q/a ~/q/b")
    assert m.sh("cd ~ && find q -type f -exec echo {} +").stdout == "q/a q/b\n"


def test_sort_by_several_keys(m):
    assert m.sh("printf 'b 2\\na 2\\nc 1\\n' | sort -k2,2n -k1,1").stdout == "c 1\na 2\nb 2\n"


def test_background_jobs_in_a_container_use_container_pids(m, container):
    ns, init = container
    code, out, err = run_in(m, ns, "sleep 30 & echo $!; (exit 3) & wait $!; echo $?")
    assert out == "3\n3\n"  # 1 is the container's init, 2 this shell, 3 the sleep


# -- pgrep / pkill / env --------------------------------------------------------------------------
def test_pgrep_finds_processes_by_name_and_pkill_signals_them(m):
    assert m.sh("sleep 300 &").exit_code == 0
    assert m.sh("sleep 400 &").exit_code == 0
    r = m.sh("pgrep sleep")
    assert r.exit_code == 0 and len(r.stdout.split()) == 2 and all(p.isdigit() for p in r.stdout.split())
    assert m.sh("pgrep -l slee").stdout.splitlines()[0].endswith(" sleep")
    assert [ln.split(" ", 1)[1] for ln in m.sh("pgrep -a sleep").stdout.splitlines()] == ["sleep 300", "sleep 400"]
    assert m.sh("pgrep -f 'sleep 4'").stdout == m.sh("pgrep -n sleep").stdout
    assert m.sh("pgrep -c sleep").stdout == "2\n"
    assert m.sh("pgrep -x slee").exit_code == 1
    r = m.sh("pgrep")
    assert (r.exit_code, r.stderr) == (2, "pgrep: no matching criteria specified\n"
                                          "Try `pgrep --help' for more information.\n")
    assert m.sh("pgrep -q x").stderr.startswith("pgrep: invalid option -- 'q'\n")
    assert m.sh("pkill -f 'sleep 3'").exit_code == 0
    assert m.sh("pgrep -a sleep").stdout.split(" ", 1)[1] == "sleep 400\n"
    assert m.sh("pkill -KILL sleep").exit_code == 0
    assert m.sh("pgrep sleep").exit_code == 1
    assert m.sh("pkill sleep").exit_code == 1
    assert m.sh("sudo sleep 500 &").exit_code == 0  # root's: the student may not signal it
    r = m.sh("pkill -x sleep")
    assert r.exit_code == 1 and r.stderr.startswith("pkill: killing pid ") and \
        r.stderr.endswith(" failed: Operation not permitted\n")
    assert m.sh("sudo pkill -x sleep").exit_code == 0
    assert m.sh("pgrep -x sleep").exit_code == 1
    assert m.sh("pkill -NOPE sleep").stderr.startswith("pkill: invalid option -- 'N'\n")


def test_env_reports_why_a_program_cannot_run(m):
    r = m.sh("env A=1 no-such-program")
    assert (r.exit_code, r.stderr) == (127, "env: 'no-such-program': No such file or directory\n")
    m.sh("printf 'x' > /tmp/data && chmod 755 /tmp/data && touch /tmp/plain")
    r = m.sh("env /tmp/plain")
    assert (r.exit_code, r.stderr) == (126, "env: '/tmp/plain': Permission denied\n")
    r = m.sh("env /tmp/data")
    assert (r.exit_code, r.stderr) == (126, "env: '/tmp/data': Exec format error\n")


# -- tar -------------------------------------------------------------------------------------------------
def test_tar_create_list_and_extract_real_tar_gz(m):
    m.sh("mkdir -p ~/app/conf && echo hi > ~/app/a.txt && echo x=1 > ~/app/conf/x.ini && ln -s a.txt ~/app/link")
    r = m.sh("cd ~ && tar czf app.tgz app")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    import gzip, io, tarfile  # noqa: E401  (the bytes are a real gzip'd tar)
    data = m.fs.read("/home/student/app.tgz")
    names = tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))).getnames()
    assert names == ["app", "app/a.txt", "app/conf", "app/conf/x.ini", "app/link"]
    assert m.sh("cd ~ && tar tzf app.tgz").stdout == "app/\napp/a.txt\napp/conf/\napp/conf/x.ini\napp/link\n"
    long = m.sh("cd ~ && tar tvzf app.tgz").stdout.splitlines()
    assert long[0] == "drwxrwxr-x student/student    0 2025-03-03 09:00 app/"
    assert long[1] == "-rw-rw-r-- student/student    3 2025-03-03 09:00 app/a.txt"
    assert long[4].endswith("app/link -> a.txt")
    assert m.sh("mkdir /tmp/out && tar -xvzf ~/app.tgz -C /tmp/out").stdout.splitlines()[:2] == ["app/", "app/a.txt"]
    assert m.sh("cat /tmp/out/app/conf/x.ini /tmp/out/app/link").stdout == "x=1\nhi\n"
    assert m.sh("stat -c %U /tmp/out/app/a.txt").stdout == "student\n"
    # old-style letters, --strip-components, one member
    assert m.sh("mkdir /tmp/s && tar xf ~/app.tgz -C /tmp/s --strip-components=1 app/conf").exit_code == 0
    assert m.sh("ls /tmp/s/conf").stdout == "x.ini\n"
    # root keeps the archive's owners
    m.sh("cd ~ && sudo tar xzf app.tgz -C /opt")
    assert m.sh("stat -c %U /opt/app/a.txt").stdout == "student\n"


def test_tar_errors_in_gnu_words(m):
    r = m.sh("tar xzf /tmp/none.tgz")
    assert (r.exit_code, r.stderr) == (2, "tar: /tmp/none.tgz: Cannot open: No such file or directory\n"
                                          "tar: Error is not recoverable: exiting now\n")
    m.sh("echo plain > /tmp/plain.txt")
    r = m.sh("tar xzf /tmp/plain.txt")
    assert (r.exit_code, r.stderr) == (2, "\ngzip: stdin: not in gzip format\ntar: Child returned status 1\n"
                                          "tar: Error is not recoverable: exiting now\n")
    r = m.sh("tar xf /tmp/plain.txt")
    assert r.exit_code == 2 and r.stderr.startswith("tar: This does not look like a tar archive\n")
    r = m.sh("tar zf /tmp/plain.txt")
    assert r.exit_code == 2 and r.stderr.startswith("tar: You must specify one of the '-Acdtrux'")
    r = m.sh("cd /tmp && tar cf x.tar")
    assert r.exit_code == 2 and r.stderr.startswith("tar: Cowardly refusing to create an empty archive\n")
    m.sh("cd /tmp && tar cf x.tar plain.txt")
    r = m.sh("tar xf /tmp/x.tar -C /etc")
    assert r.exit_code == 2 and "tar: plain.txt: Cannot open: Permission denied\n" in r.stderr
    r = m.sh("tar tf /tmp/x.tar missing")
    assert r.exit_code == 2 and "tar: missing: Not found in archive\n" in r.stderr


def test_tar_refuses_members_that_climb_out_of_the_directory(m):
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("a/../../escape.txt")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"x\n"))
    m.fs.write("/tmp/evil.tar", buf.getvalue())
    r = m.sh("mkdir /tmp/in && tar xf /tmp/evil.tar -C /tmp/in")
    assert r.exit_code == 2 and "Member name contains '..'" in r.stderr
    assert not m.fs.exists("/tmp/escape.txt")
