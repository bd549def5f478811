"""Image references parse and normalise exactly as ``docker pull`` does."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aivle_k8s.images.reference import (
    DEFAULT_DOMAIN,
    Reference,
    is_image_id,
    parse_reference,
    split_host,
)
from aivle_k8s.sim.errors import AivleError, InvalidInput, InvalidReference

HEX = "0123456789abcdef" * 4  # 64 lowercase hex digits
DIGEST = f"sha256:{HEX}"

# text, domain, path, tag, digest, str(), familiar_string
VALID = [
    ("nginx", "docker.io", "library/nginx", "latest", None,
     "docker.io/library/nginx:latest", "nginx:latest"),
    ("nginx:1.25", "docker.io", "library/nginx", "1.25", None,
     "docker.io/library/nginx:1.25", "nginx:1.25"),
    ("library/nginx", "docker.io", "library/nginx", "latest", None,
     "docker.io/library/nginx:latest", "nginx:latest"),
    ("docker.io/nginx", "docker.io", "library/nginx", "latest", None,
     "docker.io/library/nginx:latest", "nginx:latest"),
    ("docker.io/library/nginx", "docker.io", "library/nginx", "latest", None,
     "docker.io/library/nginx:latest", "nginx:latest"),
    ("index.docker.io/library/nginx", "docker.io", "library/nginx", "latest", None,
     "docker.io/library/nginx:latest", "nginx:latest"),
    ("index.docker.io/x", "docker.io", "library/x", "latest", None,
     "docker.io/library/x:latest", "x:latest"),
    ("user/app:v1", "docker.io", "user/app", "v1", None,
     "docker.io/user/app:v1", "user/app:v1"),
    ("library/a/b", "docker.io", "library/a/b", "latest", None,
     "docker.io/library/a/b:latest", "library/a/b:latest"),
    ("localhost/app", "localhost", "app", "latest", None,
     "localhost/app:latest", "localhost/app:latest"),
    ("localhost:5000/team/app:2", "localhost:5000", "team/app", "2", None,
     "localhost:5000/team/app:2", "localhost:5000/team/app:2"),
    (f"registry.example.com:5000/a/b/c@{DIGEST}", "registry.example.com:5000", "a/b/c", None,
     DIGEST, f"registry.example.com:5000/a/b/c@{DIGEST}",
     f"registry.example.com:5000/a/b/c@{DIGEST}"),
    (f"nginx:1.25@{DIGEST}", "docker.io", "library/nginx", "1.25", DIGEST,
     f"docker.io/library/nginx:1.25@{DIGEST}", f"nginx:1.25@{DIGEST}"),
    (f"nginx@{DIGEST}", "docker.io", "library/nginx", None, DIGEST,
     f"docker.io/library/nginx@{DIGEST}", f"nginx@{DIGEST}"),
    (f"nginx@sha384:{'a' * 96}", "docker.io", "library/nginx", None, f"sha384:{'a' * 96}",
     f"docker.io/library/nginx@sha384:{'a' * 96}", f"nginx@sha384:{'a' * 96}"),
    (f"nginx@sha512:{'b' * 128}", "docker.io", "library/nginx", None, f"sha512:{'b' * 128}",
     f"docker.io/library/nginx@sha512:{'b' * 128}", f"nginx@sha512:{'b' * 128}"),
    ("[::1]:5000/app", "[::1]:5000", "app", "latest", None,
     "[::1]:5000/app:latest", "[::1]:5000/app:latest"),
    ("[2001:db8::1]/app:v", "[2001:db8::1]", "app", "v", None,
     "[2001:db8::1]/app:v", "[2001:db8::1]/app:v"),
    # no slash: never a host, so this is the image "192.168.0.1" tagged "80"
    ("192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", None,
     "docker.io/library/192.168.0.1:80", "192.168.0.1:80"),
    ("192.168.0.1:5000/app", "192.168.0.1:5000", "app", "latest", None,
     "192.168.0.1:5000/app:latest", "192.168.0.1:5000/app:latest"),
    ("localhost", "docker.io", "library/localhost", "latest", None,
     "docker.io/library/localhost:latest", "localhost:latest"),
    ("localhost:5000", "docker.io", "library/localhost", "5000", None,
     "docker.io/library/localhost:5000", "localhost:5000"),
    # an uppercase first component is a host, and hosts may use uppercase
    ("Host.Example/app", "Host.Example", "app", "latest", None,
     "Host.Example/app:latest", "Host.Example/app:latest"),
    ("UPPER/app", "UPPER", "app", "latest", None, "UPPER/app:latest", "UPPER/app:latest"),
    ("a__b", "docker.io", "library/a__b", "latest", None,
     "docker.io/library/a__b:latest", "a__b:latest"),
    ("a--b", "docker.io", "library/a--b", "latest", None,
     "docker.io/library/a--b:latest", "a--b:latest"),
    ("a_b.c-d---e", "docker.io", "library/a_b.c-d---e", "latest", None,
     "docker.io/library/a_b.c-d---e:latest", "a_b.c-d---e:latest"),
    ("quay.io/prometheus/node-exporter:v1.8.0", "quay.io", "prometheus/node-exporter", "v1.8.0",
     None, "quay.io/prometheus/node-exporter:v1.8.0", "quay.io/prometheus/node-exporter:v1.8.0"),
    ("app:_Tag.with-MIXED_case", "docker.io", "library/app", "_Tag.with-MIXED_case", None,
     "docker.io/library/app:_Tag.with-MIXED_case", "app:_Tag.with-MIXED_case"),
    ("app:" + "t" * 128, "docker.io", "library/app", "t" * 128, None,
     "docker.io/library/app:" + "t" * 128, "app:" + "t" * 128),
    ("r.io/" + "p" * 255, "r.io", "p" * 255, "latest", None,
     "r.io/" + "p" * 255 + ":latest", "r.io/" + "p" * 255 + ":latest"),
]  # fmt: skip


@pytest.mark.parametrize("text, domain, path, tag, digest, full, familiar", VALID)
def test_valid_references_normalise_like_docker(text, domain, path, tag, digest, full, familiar):
    ref = parse_reference(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert str(ref) == full
    assert ref.familiar_string == familiar
    assert ref.name == f"{domain}/{path}" == ref.repository


@pytest.mark.parametrize("text, domain, path, tag, digest, full, familiar", VALID)
def test_str_and_familiar_string_parse_back_to_the_same_reference(
    text, domain, path, tag, digest, full, familiar
):
    ref = parse_reference(text)
    assert parse_reference(full) == ref
    assert parse_reference(familiar) == ref


def test_familiar_drops_docker_hub_and_library_only():
    assert parse_reference("nginx").familiar == "nginx"
    assert parse_reference("user/app").familiar == "user/app"
    assert parse_reference("localhost:5000/app").familiar == "localhost:5000/app"
    assert parse_reference("docker.io/library/a/b").familiar == "library/a/b"


def test_familiar_name_of_hub_path_that_looks_like_a_host_reads_back_elsewhere():
    # Docker's own quirk, kept: docker.io/foo.com/bar is shown as foo.com/bar
    ref = parse_reference("docker.io/foo.com/bar")
    assert (ref.domain, ref.path, ref.familiar) == ("docker.io", "foo.com/bar", "foo.com/bar")
    assert parse_reference(ref.familiar).domain == "foo.com"


def test_default_tag_only_without_a_digest():
    assert parse_reference("nginx").tag == "latest"
    assert parse_reference(f"nginx@{DIGEST}").tag is None
    assert parse_reference(f"nginx:1@{DIGEST}").tag == "1"


def test_repr_is_short_and_fully_qualified():
    assert repr(parse_reference("nginx:1.25")) == "<Reference docker.io/library/nginx:1.25>"


def test_is_docker_hub():
    assert parse_reference("nginx").is_docker_hub
    assert parse_reference("index.docker.io/user/app").is_docker_hub
    assert not parse_reference("ghcr.io/user/app").is_docker_hub


def test_references_are_immutable_values():
    ref = parse_reference("nginx")
    with pytest.raises(AttributeError):
        ref.tag = "x"  # type: ignore[misc]
    assert {ref, parse_reference("docker.io/library/nginx:latest")} == {ref}


def test_with_tag_replaces_the_tag_and_keeps_the_digest():
    ref = parse_reference(f"nginx:1@{DIGEST}")
    assert str(ref.with_tag("2")) == f"docker.io/library/nginx:2@{DIGEST}"
    assert ref.with_tag(None).tag is None


def test_with_tag_rejects_a_bad_tag():
    with pytest.raises(InvalidReference) as info:
        parse_reference("nginx").with_tag("-bad")
    assert info.value.part == "tag"


def test_with_digest_pins_content():
    ref = parse_reference("nginx:1.25").with_digest(DIGEST)
    assert ref.familiar_string == f"nginx:1.25@{DIGEST}"
    assert parse_reference(str(ref)) == ref


def test_with_digest_rejects_a_short_digest():
    with pytest.raises(InvalidReference) as info:
        parse_reference("nginx").with_digest("sha256:abc")
    assert info.value.part == "digest"


def test_without_tag_or_digest_keeps_the_repository():
    ref = parse_reference(f"nginx:1@{DIGEST}").without_tag_or_digest()
    assert str(ref) == "docker.io/library/nginx" and ref.tag is None and ref.digest is None


def test_reference_parse_classmethod():
    assert Reference.parse("nginx") == parse_reference("nginx")


def test_split_host_follows_docker_rules():
    assert split_host("nginx") == ("docker.io", "library/nginx")
    assert split_host("user/app:v1") == ("docker.io", "user/app:v1")
    assert split_host("localhost/app") == ("localhost", "app")
    assert split_host("example.com/app") == ("example.com", "app")
    assert split_host("host:5000/app") == ("host:5000", "app")
    assert split_host("Upper/app") == ("Upper", "app")
    assert split_host("index.docker.io/app") == ("docker.io", "library/app")


def test_is_image_id():
    assert is_image_id(HEX)
    assert is_image_id(f"sha256:{HEX}")
    assert not is_image_id("nginx")
    assert not is_image_id(HEX.upper())
    assert not is_image_id(HEX[:12])


# text, part, words the message must contain
INVALID = [
    ("", "name", ["invalid reference format", "empty"]),
    ("Nginx", "path", ["repository name (library/Nginx) must be lowercase", "'nginx'"]),
    ("library/Nginx", "path",
     ["invalid reference format: repository name (library/Nginx) must be lowercase"]),
    ("user/App:v1", "path", ["repository name (user/App) must be lowercase"]),
    ("nginx:", "tag", ["invalid reference format", "tag is empty"]),
    ("nginx:v1!", "tag", ["tag (v1!)", "letters, digits"]),
    ("nginx:-v1", "tag", ["tag (-v1)", "must start with"]),
    ("nginx:" + "t" * 129, "tag", ["129 characters", "at most 128"]),
    ("a/b:c/d", "tag", ["tag (c/d)"]),
    ("nginx@sha256:abc", "digest", ["too short", "64 lowercase hex"]),
    (f"nginx@sha256:{HEX[:40]}", "digest", ["invalid checksum digest length", "64"]),
    (f"nginx@sha256:{HEX.upper()}", "digest", ["invalid checksum digest format", "lowercase"]),
    (f"nginx@md5:{HEX[:32]}", "digest", ["unsupported digest algorithm", "sha256"]),
    (f"nginx@SHA256:{HEX}", "digest", ["digest algorithm (SHA256)", "lowercase"]),
    ("nginx@", "digest", ["digest is empty"]),
    ("nginx@sha256", "digest", ["no ':'"]),
    ("nginx@sha256:xyz" + "0" * 40, "digest", ["not hex"]),
    (HEX, "name",
     [f"invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings", "image ID"]),
    ("a" * 256, "path", ["repository name must not be more than 255 characters"]),
    ("r.io/" + "p" * 256, "path", ["must not be more than 255 characters", "256 characters"]),
    ("a//b", "path", ["empty component", "extra '/'"]),
    ("a/b/", "path", ["empty component"]),
    ("/app", "path", ["empty component"]),
    ("-nginx", "path", ["path component (-nginx)", "separator"]),
    ("nginx-", "path", ["path component (nginx-)"]),
    ("a..b", "path", ["path component (a..b)"]),
    ("a b", "path", ["path component (a b)"]),
    (":", "path", ["repository name", "missing"]),
    ("localhost:5000/", "path", ["after the registry host is missing"]),
    ("foo:bar/baz", "host", ["registry port (bar)", "must be a number"]),
    ("host:/app", "host", ["no port number"]),
    ("[::1/app", "host", ["without a closing ']'"]),
    ("-bad.com/app", "host", ["registry host (-bad.com)", "not a valid host name"]),
    ("my_host.com/app", "host", ["registry host (my_host.com)"]),
]  # fmt: skip


@pytest.mark.parametrize("text, part, words", INVALID)
def test_invalid_references_say_which_part_is_wrong(text, part, words):
    with pytest.raises(InvalidReference) as info:
        parse_reference(text)
    err = info.value
    assert err.part == part
    assert err.reference == text
    for word in words:
        assert word in str(err)


def test_invalid_reference_is_an_invalid_input():
    with pytest.raises(InvalidInput):
        parse_reference("Nginx")
    with pytest.raises(AivleError):
        parse_reference("")


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError):
        parse_reference(None)  # type: ignore[arg-type]


# -- properties ----------------------------------------------------------------
_component = st.from_regex(r"[a-z0-9]{1,6}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,6}){0,2}", fullmatch=True)
_path = st.lists(_component, min_size=1, max_size=4).map("/".join)
_label = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", fullmatch=True)
_port = st.integers(min_value=1, max_value=65535).map(lambda p: f":{p}")
_host = st.one_of(
    st.none(),  # Docker Hub, written without a host
    st.sampled_from(["docker.io", "index.docker.io", "localhost", "localhost:5000", "[::1]:5000",
                     "[fe80::1]", "127.0.0.1:5000", "Registry.Example.com"]),
    st.builds(lambda a, b, p: f"{a}.{b}{p}", _label, _label, st.one_of(st.just(""), _port)),
    st.builds(lambda a, p: f"{a}{p}", _label, _port),
)  # fmt: skip
_tag = st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True))
_digest = st.one_of(
    st.none(),
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map(lambda h: "sha256:" + h),
)


@st.composite
def written_references(draw):
    """(text as a user would type it, expected Reference)."""
    host, path, tag, digest = draw(_host), draw(_path), draw(_tag), draw(_digest)
    text = (f"{host}/" if host else "") + path
    text += (f":{tag}" if tag is not None else "") + (f"@{digest}" if digest else "")
    if host in (None, "docker.io", "index.docker.io"):
        if host is None and "/" in path:
            first = path.split("/")[0]
            assume("." not in first and first != "localhost")  # that would be a host
        domain = DEFAULT_DOMAIN
        path = path if "/" in path else "library/" + path
    else:
        domain = host
    if tag is None and digest is None:
        tag = "latest"
    return text, Reference(domain, path, tag, digest)


@settings(max_examples=300)
@given(written_references())
def test_generated_references_normalise_as_docker_does(case):
    text, expected = case
    assert parse_reference(text) == expected


@settings(max_examples=300)
@given(written_references())
def test_str_round_trips(case):
    ref = parse_reference(case[0])
    assert parse_reference(str(ref)) == ref


@settings(max_examples=300)
@given(written_references())
def test_familiar_string_round_trips(case):
    ref = parse_reference(case[0])
    if ref.is_docker_hub:
        first = ref.familiar.split("/")[0]
        # the documented quirk: a familiar name whose first part looks like a host
        assume("/" not in ref.familiar or ("." not in first and first != "localhost"))
    assert parse_reference(ref.familiar_string) == ref


_reference_alphabet = st.text(alphabet="abcXY019:/.@_-[]f ", max_size=40)


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=80), _reference_alphabet))
def test_any_text_either_parses_or_raises_invalid_reference(text):
    try:
        ref = parse_reference(text)
    except InvalidReference as err:
        assert err.reference == text
        assert err.part in {"host", "path", "tag", "digest", "name"}
        assert str(err)
    else:
        assert isinstance(ref, Reference)
        assert parse_reference(str(ref)) == ref
