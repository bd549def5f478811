"""The semantic validation rules a schema cannot express, with kube-apiserver's words.

Each rule returns :class:`~.errors.FieldError` causes (``spec.replicas: Invalid
value: -1: must be greater than or equal to 0``); the server raises them
together as one :class:`~.errors.InvalidError`. Rules cover what students hit
most: names (RFC 1123 / 1035), labels, containers (names, images, ports, env,
volume mounts, resources), selectors matching templates, Service ports and
types, immutable fields on update, and the pod-update restriction.

>>> [str(e) for e in validate_name("Web_1", "subdomain")]  # doctest: +ELLIPSIS
['metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of ...']
>>> [str(e) for e in validate_object({"apiVersion": "apps/v1", "kind": "Deployment",
...     "metadata": {"name": "web"}, "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "web"}},
...     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"restartPolicy": "Always",
...     "containers": [{"name": "web", "image": "nginx"}]}}}})]
['spec.replicas: Invalid value: -1: must be greater than or equal to 0']
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Callable

from ..scheduler.quantity import parse_quantity
from .errors import FieldError, go_repr
from .selectors import SUBDOMAIN_MSG, label_selector_from_dict, validate_label_key, validate_label_value

__all__ = ["validate_object", "validate_update", "validate_name", "validate_pod_spec", "validate_metadata",
           "NAME_RULES", "quantity_errors", "POD_UPDATE_FORBIDDEN", "GoLiteral", "label_selector_literal"]

# ---- name formats ------------------------------------------------------------------------
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_ENV = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_IANA = re.compile(r"^[-a-z0-9]+$")
_PERCENT = re.compile(r"^[0-9]+%$")

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
               "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
ENV_MSG = ("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', "
           "and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex "
           "used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')")
CONFIG_KEY_MSG = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
                  "or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
               "regex used for validation is '[0-9]+%')")
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"
NON_NEGATIVE = "must be greater than or equal to 0"
IMMUTABLE = "field is immutable"

#: Which name rule each resource's ``metadata.name`` follows.
NAME_RULES = {
    "namespaces": "label", "services": "dns1035", "clusterroles": "path", "clusterrolebindings": "path",
    "roles": "path", "rolebindings": "path", "certificatesigningrequests": "path",
}

POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")


class GoLiteral:
    """A value printed verbatim (a Go struct literal) in an ``Invalid value`` message."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text


def label_selector_literal(sel: dict | None) -> GoLiteral:
    """``v1.LabelSelector{MatchLabels:map[string]string{"app":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}``."""
    if sel is None:
        return GoLiteral("nil")
    ml = sel.get("matchLabels")
    mls = go_repr(ml) if ml else "map[string]string(nil)"
    me = sel.get("matchExpressions")
    if me:
        items = ", ".join(
            f'v1.LabelSelectorRequirement{{Key:{go_repr(e.get("key", ""))}, Operator:{go_repr(e.get("operator", ""))}, '
            f'Values:{go_repr(e.get("values") or []) if e.get("values") else "[]string(nil)"}}}' for e in me)
        mes = "[]v1.LabelSelectorRequirement{" + items + "}"
    else:
        mes = "[]v1.LabelSelectorRequirement(nil)"
    return GoLiteral(f"v1.LabelSelector{{MatchLabels:{mls}, MatchExpressions:{mes}}}")


def _name_errors(name: str, rule: str, prefix: bool = False) -> list[str]:
    if prefix:  # generateName: a trailing dash is fine
        name = name[:-1] + "a" if name.endswith("-") else name
    if rule == "label":
        errs = []
        if len(name) > 63:
            errs.append("must be no more than 63 characters")
        if not _LABEL.match(name):
            errs.append(LABEL_MSG)
        return errs
    if rule == "dns1035":
        errs = []
        if len(name) > 63:
            errs.append("must be no more than 63 characters")
        if not _DNS1035.match(name):
            errs.append(DNS1035_MSG)
        return errs
    if rule == "path":
        if name in (".", ".."):
            return [f"may not be '{name}'"]
        for bad in ("/", "%"):
            if bad in name:
                return [f"may not contain '{bad}'"]
        return []
    errs = []
    if len(name) > 253:
        errs.append("must be no more than 253 characters")
    if not _SUBDOMAIN.match(name):
        errs.append(SUBDOMAIN_MSG)
    return errs


def validate_name(name: Any, rule: str = "subdomain", field: str = "metadata.name") -> list[FieldError]:
    """Check a name against a rule: ``subdomain`` (RFC 1123), ``label``, ``dns1035`` or ``path``."""
    if not isinstance(name, str):
        return [FieldError.invalid(field, name, "must be a string")]
    return [FieldError.invalid(field, name, m) for m in _name_errors(name, rule)]


def _is_label(v: Any) -> bool:
    return isinstance(v, str) and len(v) <= 63 and bool(_LABEL.match(v))


def _labels(labels: Any, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not isinstance(labels, dict):
        return errs
    for k, v in labels.items():
        for m in validate_label_key(k):
            errs.append(FieldError.invalid(field, k, m))
        for m in validate_label_value(v):
            errs.append(FieldError.invalid(field, v, m))
    return errs


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _non_negative(v: Any, field: str, errs: list) -> None:
    if _int(v) and v < 0:
        errs.append(FieldError.invalid(field, v, NON_NEGATIVE))


# =====================================================================================
# metadata
# =====================================================================================

_STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}


def validate_metadata(meta: dict, plural: str, namespaced: bool, *, check_name: bool = True,
                      maps: bool = True) -> list[FieldError]:
    """ObjectMeta rules (``ValidateObjectMeta``): name, generateName, namespace and (``maps``) labels,
    annotations, finalizers, ownerReferences."""
    errs: list[FieldError] = []
    rule = NAME_RULES.get(plural, "subdomain")
    name = meta.get("name")
    gen = meta.get("generateName")
    if check_name:
        if not name and not gen:
            errs.append(FieldError.required("metadata.name", "name or generateName is required"))
        elif name:
            errs.extend(FieldError.invalid("metadata.name", name, m) for m in _name_errors(str(name), rule))
        if gen and not name:
            errs.extend(FieldError.invalid("metadata.generateName", gen, m)
                        for m in _name_errors(str(gen), rule, prefix=True))
    ns = meta.get("namespace")
    if namespaced and ns:
        errs.extend(FieldError.invalid("metadata.namespace", ns, m) for m in _name_errors(str(ns), "label"))
    if maps:
        errs.extend(_metadata_maps(meta))
    return errs


def _metadata_maps(meta: dict) -> list[FieldError]:
    errs = _labels(meta.get("labels"), "metadata.labels")
    ann = meta.get("annotations")
    if isinstance(ann, dict):
        total = 0
        for k, v in ann.items():
            for m in validate_label_key(k):
                errs.append(FieldError.invalid("metadata.annotations", k, m))
            total += len(k) + len(v or "")
        if total > 262144:
            errs.append(FieldError.too_long("metadata.annotations", 262144))
    fins = meta.get("finalizers")
    if isinstance(fins, list):
        for i, f in enumerate(fins):
            if not isinstance(f, str) or validate_label_key(f):
                errs.append(FieldError.invalid(f"metadata.finalizers[{i}]", f,
                                               "; ".join(validate_label_key(f)) or "must be a string"))
            elif "/" not in f and f not in _STANDARD_FINALIZERS:
                errs.append(FieldError.invalid(f"metadata.finalizers[{i}]", f,
                                               "name is neither a standard finalizer name nor is it fully qualified"))
    owners = meta.get("ownerReferences")
    if isinstance(owners, list):
        controllers = 0
        for i, o in enumerate(owners):
            p = f"metadata.ownerReferences[{i}]"
            if not isinstance(o, dict):
                continue
            for fld in ("apiVersion", "kind", "name"):
                if not o.get(fld):
                    errs.append(FieldError.invalid(f"{p}.{fld}", o.get(fld, ""), f"{fld} must not be empty"))
            if not o.get("uid"):
                errs.append(FieldError.invalid(f"{p}.uid", o.get("uid", ""), "uid must not be empty"))
            if o.get("controller"):
                controllers += 1
        if controllers > 1:
            errs.append(FieldError.invalid("metadata.ownerReferences", GoLiteral("[...]"),
                                           "Only one reference can have Controller set to true"))
    return errs


# =====================================================================================
# quantities (decode-time in the real server)
# =====================================================================================

def quantity_errors(obj: dict) -> str | None:
    """The first malformed quantity in the usual places, as the decoder words it."""
    kind = obj.get("kind")
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    places: list = []
    if kind == "Node":
        st = obj.get("status") or {}
        places += [st.get("capacity"), st.get("allocatable")]
    else:
        for ps in _pod_specs(obj):
            for c in (ps.get("containers") or []) + (ps.get("initContainers") or []):
                if isinstance(c, dict) and isinstance(c.get("resources"), dict):
                    places += [c["resources"].get("requests"), c["resources"].get("limits")]
            places.append(ps.get("overhead"))
            for v in ps.get("volumes") or []:
                if isinstance(v, dict) and isinstance(v.get("emptyDir"), dict):
                    places.append({"sizeLimit": v["emptyDir"].get("sizeLimit")})
    for rl in places:
        if not isinstance(rl, dict):
            continue
        for q in rl.values():
            if q is None:
                continue
            try:
                parse_quantity(q)
            except Exception as e:  # noqa: BLE001 - the quantity parser's own words
                return str(e)
    return None


def _pod_specs(obj: dict) -> list[dict]:
    kind = obj.get("kind")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    if kind == "Pod":
        return [spec]
    tpl = spec.get("template")
    if kind == "CronJob":
        jt = spec.get("jobTemplate") or {}
        tpl = ((jt.get("spec") or {}).get("template")) if isinstance(jt, dict) else None
    if isinstance(tpl, dict) and isinstance(tpl.get("spec"), dict):
        return [tpl["spec"]]
    return []


# =====================================================================================
# pods
# =====================================================================================

_PROTOCOLS = ("SCTP", "TCP", "UDP")
_STD_RESOURCES = ("cpu", "memory", "ephemeral-storage", "storage")


def _container(c: dict, p: str, volumes: set, errs: list, names: dict, init: bool) -> None:
    name = c.get("name")
    if not name:
        errs.append(FieldError.required(f"{p}.name"))
    else:
        if not _is_label(name):
            errs.append(FieldError.invalid(f"{p}.name", name, LABEL_MSG))
        if name in names:
            errs.append(FieldError.duplicate(f"{p}.name", name))
        names[name] = p
    if not c.get("image"):
        errs.append(FieldError.required(f"{p}.image"))
    ipp = c.get("imagePullPolicy")
    if ipp is not None and ipp not in ("Always", "IfNotPresent", "Never"):
        errs.append(FieldError.not_supported(f"{p}.imagePullPolicy", ipp, ("Always", "IfNotPresent", "Never")))
    port_names: set = set()
    for i, port in enumerate(c.get("ports") or []):
        if not isinstance(port, dict):
            continue
        pp = f"{p}.ports[{i}]"
        cp = port.get("containerPort")
        if _int(cp) and not 1 <= cp <= 65535:
            errs.append(FieldError.invalid(f"{pp}.containerPort", cp, PORT_RANGE_MSG))
        hp = port.get("hostPort")
        if _int(hp) and hp != 0 and not 1 <= hp <= 65535:
            errs.append(FieldError.invalid(f"{pp}.hostPort", hp, PORT_RANGE_MSG))
        proto = port.get("protocol")
        if proto is not None and proto not in _PROTOCOLS:
            errs.append(FieldError.not_supported(f"{pp}.protocol", proto, _PROTOCOLS))
        pn = port.get("name")
        if pn:
            for m in _iana_errors(pn):
                errs.append(FieldError.invalid(f"{pp}.name", pn, m))
            if pn in port_names:
                errs.append(FieldError.duplicate(f"{pp}.name", pn))
            port_names.add(pn)
    for i, env in enumerate(c.get("env") or []):
        if not isinstance(env, dict):
            continue
        ep = f"{p}.env[{i}]"
        en = env.get("name")
        if not en:
            errs.append(FieldError.required(f"{ep}.name"))
        elif not _ENV.match(en):
            errs.append(FieldError.invalid(f"{ep}.name", en, ENV_MSG))
        vf = env.get("valueFrom")
        if vf is not None:
            if env.get("value"):
                errs.append(FieldError.invalid(f"{ep}.valueFrom", "", "may not be specified when `value` is not empty"))
            sources = [k for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
                       if isinstance(vf, dict) and vf.get(k) is not None]
            if not sources:
                errs.append(FieldError.invalid(f"{ep}.valueFrom", "", "must specify one of: `fieldRef`, "
                                               "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
            elif len(sources) > 1:
                errs.append(FieldError.invalid(f"{ep}.valueFrom", "", "may not have more than one field specified "
                                               "at a time"))
    mounts: set = set()
    for i, vm in enumerate(c.get("volumeMounts") or []):
        if not isinstance(vm, dict):
            continue
        mp = f"{p}.volumeMounts[{i}]"
        vn = vm.get("name")
        if not vn:
            errs.append(FieldError.required(f"{mp}.name"))
        elif vn not in volumes:
            errs.append(FieldError.not_found(f"{mp}.name", vn))
        path = vm.get("mountPath")
        if not path:
            errs.append(FieldError.required(f"{mp}.mountPath"))
        elif path in mounts:
            errs.append(FieldError.invalid(f"{mp}.mountPath", path, "must be unique"))
        else:
            mounts.add(path)
    res = c.get("resources")
    if isinstance(res, dict):
        _resources(res, f"{p}.resources", errs)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        pr = c.get(probe)
        if isinstance(pr, dict):
            _probe(pr, f"{p}.{probe}", probe, errs)
    if init and c.get("restartPolicy") not in (None, "Always"):
        errs.append(FieldError.not_supported(f"{p}.restartPolicy", c["restartPolicy"], ("Always",)))


def _iana_errors(name: str) -> list[str]:
    errs = []
    if len(name) > 15:
        errs.append("must be no more than 15 characters")
    if not _IANA.match(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if not re.search(r"[a-z]", name):
        errs.append("must contain at least one letter (a-z)")
    if name.startswith("-") or name.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def _resources(res: dict, p: str, errs: list) -> None:
    values = {}
    for part in ("limits", "requests"):
        rl = res.get(part)
        if not isinstance(rl, dict):
            continue
        for rname, q in rl.items():
            rp = f"{p}.{part}[{rname}]"
            if rname not in _STD_RESOURCES and not rname.startswith("hugepages-") and "/" not in rname:
                errs.append(FieldError.invalid(rp, rname, "must be a standard resource type or fully qualified"))
                continue
            try:
                v = parse_quantity(q)
            except Exception:  # noqa: BLE001 - reported at decode time
                continue
            if v < 0:
                errs.append(FieldError.invalid(rp, str(q), NON_NEGATIVE))
            values[(part, rname)] = (v, q)
    for (part, rname), (v, q) in values.items():
        if part != "requests":
            continue
        lim = values.get(("limits", rname))
        if lim is not None and v > lim[0]:
            errs.append(FieldError.invalid(f"{p}.requests", str(q), f"must be less than or equal to {rname} limit "
                                           f"of {lim[1]}"))


def _probe(pr: dict, p: str, which: str, errs: list) -> None:
    handlers = [k for k in ("exec", "httpGet", "tcpSocket", "grpc") if pr.get(k) is not None]
    if not handlers:
        errs.append(FieldError.required(p, "must specify a handler type"))
    elif len(handlers) > 1:
        errs.append(FieldError.forbidden(f"{p}.{handlers[1]}", "may not specify more than 1 handler type"))
    for f in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        _non_negative(pr.get(f), f"{p}.{f}", errs)
    if which in ("livenessProbe", "startupProbe") and _int(pr.get("successThreshold")) and pr["successThreshold"] != 1:
        errs.append(FieldError.invalid(f"{p}.successThreshold", pr["successThreshold"], "must be 1"))
    for h in ("httpGet", "tcpSocket"):
        hv = pr.get(h)
        if isinstance(hv, dict):
            port = hv.get("port")
            if _int(port) and not 1 <= port <= 65535:
                errs.append(FieldError.invalid(f"{p}.{h}.port", port, PORT_RANGE_MSG))
            elif isinstance(port, str):
                for m in _iana_errors(port):
                    errs.append(FieldError.invalid(f"{p}.{h}.port", port, m))
            elif port is None:
                errs.append(FieldError.required(f"{p}.{h}.port"))


_VOLUME_SOURCES = ("emptyDir", "hostPath", "configMap", "secret", "persistentVolumeClaim", "projected",
                   "downwardAPI", "nfs", "csi", "ephemeral", "iscsi", "gitRepo")


def validate_pod_spec(spec: dict, p: str = "spec", *, template: bool = False) -> list[FieldError]:
    """``ValidatePodSpec``: containers, volumes, policies, tolerations, affinity."""
    errs: list[FieldError] = []
    volumes: set = set()
    for i, v in enumerate(spec.get("volumes") or []):
        if not isinstance(v, dict):
            continue
        vp = f"{p}.volumes[{i}]"
        vn = v.get("name")
        if not vn:
            errs.append(FieldError.required(f"{vp}.name"))
        else:
            if not _is_label(vn):
                errs.append(FieldError.invalid(f"{vp}.name", vn, LABEL_MSG))
            if vn in volumes:
                errs.append(FieldError.duplicate(f"{vp}.name", vn))
            volumes.add(vn)
        srcs = [s for s in _VOLUME_SOURCES if v.get(s) is not None]
        if len(srcs) > 1:
            errs.append(FieldError.forbidden(f"{vp}.{srcs[1]}", "may not specify more than 1 volume type"))
        if isinstance(v.get("configMap"), dict) and not v["configMap"].get("name"):
            errs.append(FieldError.required(f"{vp}.configMap.name"))
        if isinstance(v.get("secret"), dict) and not v["secret"].get("secretName"):
            errs.append(FieldError.required(f"{vp}.secret.secretName"))
        if isinstance(v.get("hostPath"), dict) and not v["hostPath"].get("path"):
            errs.append(FieldError.required(f"{vp}.hostPath.path"))
        if isinstance(v.get("persistentVolumeClaim"), dict) and not v["persistentVolumeClaim"].get("claimName"):
            errs.append(FieldError.required(f"{vp}.persistentVolumeClaim.claimName"))
    containers = spec.get("containers")
    names: dict = {}
    for i, c in enumerate(spec.get("initContainers") or []):
        if isinstance(c, dict):
            _container(c, f"{p}.initContainers[{i}]", volumes, errs, names, True)
    if not containers:
        errs.append(FieldError.required(f"{p}.containers"))
    else:
        for i, c in enumerate(containers):
            if isinstance(c, dict):
                _container(c, f"{p}.containers[{i}]", volumes, errs, names, False)
    rp = spec.get("restartPolicy")
    if rp is not None and rp not in ("Always", "OnFailure", "Never"):
        errs.append(FieldError.not_supported(f"{p}.restartPolicy", rp, ("Always", "Never", "OnFailure")))
    dp = spec.get("dnsPolicy")
    if dp is not None and dp not in ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"):
        errs.append(FieldError.not_supported(f"{p}.dnsPolicy", dp,
                                             ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")))
    ads = spec.get("activeDeadlineSeconds")
    if _int(ads) and ads <= 0:
        errs.append(FieldError.invalid(f"{p}.activeDeadlineSeconds", ads, "must be between 1 and 2147483647, inclusive"))
    ns = spec.get("nodeSelector")
    if isinstance(ns, dict):
        errs.extend(_labels(ns, f"{p}.nodeSelector"))
    for field in ("nodeName", "serviceAccountName", "priorityClassName", "schedulerName"):
        v = spec.get(field)
        if v:
            errs.extend(FieldError.invalid(f"{p}.{field}", v, m) for m in _name_errors(str(v), "subdomain"))
    for field in ("hostname", "subdomain"):
        v = spec.get(field)
        if v and not _is_label(v):
            errs.append(FieldError.invalid(f"{p}.{field}", v, LABEL_MSG))
    for i, t in enumerate(spec.get("tolerations") or []):
        if isinstance(t, dict):
            _toleration(t, f"{p}.tolerations[{i}]", errs)
    aff = spec.get("affinity")
    if isinstance(aff, dict):
        _affinity(aff, f"{p}.affinity", errs)
    for i, tsc in enumerate(spec.get("topologySpreadConstraints") or []):
        if not isinstance(tsc, dict):
            continue
        tp = f"{p}.topologySpreadConstraints[{i}]"
        ms = tsc.get("maxSkew")
        if _int(ms) and ms <= 0:
            errs.append(FieldError.invalid(f"{tp}.maxSkew", ms, "must be greater than zero"))
        if not tsc.get("topologyKey"):
            errs.append(FieldError.required(f"{tp}.topologyKey", "can not be empty"))
        wu = tsc.get("whenUnsatisfiable")
        if wu not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.append(FieldError.not_supported(f"{tp}.whenUnsatisfiable", wu, ("DoNotSchedule", "ScheduleAnyway")))
    return errs


def _toleration(t: dict, p: str, errs: list) -> None:
    key = t.get("key")
    if key:
        for m in validate_label_key(key):
            errs.append(FieldError.invalid(f"{p}.key", key, m))
    op = t.get("operator")
    if op in (None, "", "Equal"):
        if not key and op == "Equal":
            errs.append(FieldError.invalid(f"{p}.operator", op, "operator must be Exists when `key` is empty, "
                                           "which means \"match all values and all keys\""))
        v = t.get("value")
        if v:
            for m in validate_label_value(v):
                errs.append(FieldError.invalid(f"{p}.value", v, m))
    elif op == "Exists":
        if t.get("value"):
            errs.append(FieldError.invalid(f"{p}.operator", t.get("value"),
                                           "value must be empty when `operator` is 'Exists'"))
    else:
        errs.append(FieldError.not_supported(f"{p}.operator", op, ("Equal", "Exists")))
    eff = t.get("effect")
    if eff and eff not in ("NoExecute", "NoSchedule", "PreferNoSchedule"):
        errs.append(FieldError.not_supported(f"{p}.effect", eff, ("NoExecute", "NoSchedule", "PreferNoSchedule")))
    if t.get("tolerationSeconds") is not None and eff != "NoExecute":
        errs.append(FieldError.invalid(f"{p}.effect", eff or "", "effect must be 'NoExecute' when "
                                       "`tolerationSeconds` is set"))


def _node_selector_requirement(r: dict, p: str, errs: list) -> None:
    op = r.get("operator")
    values = r.get("values") or []
    if op in ("In", "NotIn"):
        if not values:
            errs.append(FieldError.required(f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif op in ("Exists", "DoesNotExist"):
        if values:
            errs.append(FieldError.forbidden(f"{p}.values", "may not be specified when `operator` is 'Exists' or "
                                             "'DoesNotExist'"))
    elif op in ("Gt", "Lt"):
        if len(values) != 1:
            errs.append(FieldError.required(f"{p}.values", "must be specified single value when `operator` is "
                                            "'Lt' or 'Gt'"))
    else:
        errs.append(FieldError.not_supported(f"{p}.operator", op,
                                             ("DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn")))
    key = r.get("key")
    for m in validate_label_key(key or ""):
        errs.append(FieldError.invalid(f"{p}.key", key or "", m))


def _affinity(aff: dict, p: str, errs: list) -> None:
    na = aff.get("nodeAffinity")
    if isinstance(na, dict):
        req = na.get("requiredDuringSchedulingIgnoredDuringExecution")
        rp = f"{p}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        if isinstance(req, dict):
            terms = req.get("nodeSelectorTerms") or []
            if not terms:
                errs.append(FieldError.required(f"{rp}.nodeSelectorTerms", "must have at least one node selector "
                                                "term"))
            for i, term in enumerate(terms):
                for j, r in enumerate((term or {}).get("matchExpressions") or []):
                    _node_selector_requirement(r, f"{rp}.nodeSelectorTerms[{i}].matchExpressions[{j}]", errs)
        for i, pref in enumerate(na.get("preferredDuringSchedulingIgnoredDuringExecution") or []):
            pp = f"{p}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
            w = (pref or {}).get("weight")
            if _int(w) and not 1 <= w <= 100:
                errs.append(FieldError.invalid(f"{pp}.weight", w, "must be in the range 1-100"))
    for kind in ("podAffinity", "podAntiAffinity"):
        pa = aff.get(kind)
        if not isinstance(pa, dict):
            continue
        for i, term in enumerate(pa.get("requiredDuringSchedulingIgnoredDuringExecution") or []):
            if isinstance(term, dict) and not term.get("topologyKey"):
                errs.append(FieldError.required(
                    f"{p}.{kind}.requiredDuringSchedulingIgnoredDuringExecution[{i}].topologyKey",
                    "can not be empty"))


def _pod(obj: dict) -> list[FieldError]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [FieldError.required("spec.containers")]
    return validate_pod_spec(spec)


# =====================================================================================
# workloads
# =====================================================================================

def _template(spec: dict, p: str, errs: list, allowed_restart: tuple | None) -> dict | None:
    tpl = spec.get("template")
    if not isinstance(tpl, dict):
        errs.append(FieldError.required(f"{p}.template"))
        return None
    tmeta = tpl.get("metadata") if isinstance(tpl.get("metadata"), dict) else {}
    errs.extend(_labels(tmeta.get("labels"), f"{p}.template.metadata.labels"))
    tspec = tpl.get("spec")
    if not isinstance(tspec, dict):
        errs.append(FieldError.required(f"{p}.template.spec.containers"))
        return tmeta
    errs.extend(validate_pod_spec(tspec, f"{p}.template.spec", template=True))
    rp = tspec.get("restartPolicy")
    if allowed_restart is not None and rp is not None and rp not in allowed_restart and \
            rp in ("Always", "OnFailure", "Never"):
        errs.append(FieldError.not_supported(f"{p}.template.spec.restartPolicy", rp, allowed_restart))
    if tspec.get("activeDeadlineSeconds") is not None and allowed_restart == ("Always",):
        errs.append(FieldError.forbidden(f"{p}.template.spec.activeDeadlineSeconds",
                                         "activeDeadlineSeconds in ReplicaSet is not Supported"))
    return tmeta


def _selector(spec: dict, p: str, errs: list, tmeta: dict | None, what: str, required: bool = True) -> None:
    sel = spec.get("selector")
    if sel is None:
        if required:
            errs.append(FieldError.required(f"{p}.selector"))
            if tmeta is not None:
                errs.append(FieldError.invalid(f"{p}.template.metadata.labels", tmeta.get("labels") or
                                               GoLiteral("map[string]string(nil)"),
                                               "`selector` does not match template `labels`"))
        return
    if not isinstance(sel, dict):
        return
    if not sel.get("matchLabels") and not sel.get("matchExpressions"):
        errs.append(FieldError.invalid(f"{p}.selector", label_selector_literal(sel), f"empty selector is invalid for {what}"))
        return
    errs.extend(_labels(sel.get("matchLabels"), f"{p}.selector.matchLabels"))
    for j, e in enumerate(sel.get("matchExpressions") or []):
        op = (e or {}).get("operator")
        ep = f"{p}.selector.matchExpressions[{j}]"
        if op in ("In", "NotIn") and not e.get("values"):
            errs.append(FieldError.required(f"{ep}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist") and e.get("values"):
            errs.append(FieldError.forbidden(f"{ep}.values", "may not be specified when `operator` is 'Exists' or "
                                             "'DoesNotExist'"))
        elif op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            errs.append(FieldError.invalid(f"{ep}.operator", op, "not a valid selector operator"))
    if tmeta is not None:
        try:
            matches = label_selector_from_dict(sel).matches(tmeta.get("labels") or {})
        except Exception:  # noqa: BLE001 - a malformed selector is reported above
            matches = True
        if not matches:
            errs.append(FieldError.invalid(f"{p}.template.metadata.labels",
                                           tmeta.get("labels") or GoLiteral("map[string]string(nil)"),
                                           "`selector` does not match template `labels`"))


def _int_or_percent(v: Any, p: str, errs: list) -> int | None:
    """Validate a maxSurge/maxUnavailable value; return it as a comparable number (percent or int)."""
    if v is None:
        return None
    if _int(v):
        if v < 0:
            errs.append(FieldError.invalid(p, v, NON_NEGATIVE))
        return v
    if isinstance(v, str):
        if not _PERCENT.match(v):
            errs.append(FieldError.invalid(p, v, PERCENT_MSG))
            return None
        n = int(v[:-1])
        if n > 100:
            errs.append(FieldError.invalid(p, v, "must not be greater than 100%"))
        return n
    return None


def _rolling(ru: dict, p: str, errs: list, surge_field: bool = True) -> None:
    mu = _int_or_percent(ru.get("maxUnavailable"), f"{p}.maxUnavailable", errs)
    ms = _int_or_percent(ru.get("maxSurge"), f"{p}.maxSurge", errs) if surge_field else None
    if surge_field and mu == 0 and ms == 0:
        errs.append(FieldError.invalid(f"{p}.maxUnavailable", ru.get("maxUnavailable"),
                                       "may not be 0 when `maxSurge` is 0"))


def _replicas(spec: dict, errs: list) -> None:
    _non_negative(spec.get("replicas"), "spec.replicas", errs)
    _non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds", errs)
    _non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit", errs)


def _deployment(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [FieldError.required("spec.selector"), FieldError.required("spec.template")]
    _replicas(spec, errs)
    tmeta = _template(spec, "spec", errs, ("Always",))
    _selector(spec, "spec", errs, tmeta, "deployment")
    strat = spec.get("strategy")
    if isinstance(strat, dict):
        t = strat.get("type")
        if t is not None and t not in ("Recreate", "RollingUpdate"):
            errs.append(FieldError.not_supported("spec.strategy.type", t, ("Recreate", "RollingUpdate")))
        ru = strat.get("rollingUpdate")
        if t == "Recreate" and ru is not None:
            errs.append(FieldError.forbidden("spec.strategy.rollingUpdate",
                                             "may not be specified when strategy `type` is 'Recreate'"))
        elif isinstance(ru, dict):
            _rolling(ru, "spec.strategy.rollingUpdate", errs)
    pds = spec.get("progressDeadlineSeconds")
    if _int(pds):
        mrs = spec.get("minReadySeconds") or 0
        if _int(mrs) and pds <= mrs:
            errs.append(FieldError.invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"))
    return errs


def _replicaset(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [FieldError.required("spec.selector")]
    _replicas(spec, errs)
    tmeta = _template(spec, "spec", errs, ("Always",))
    _selector(spec, "spec", errs, tmeta, "replicaset")
    return errs


def _daemonset(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [FieldError.required("spec.selector")]
    _non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds", errs)
    _non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit", errs)
    tmeta = _template(spec, "spec", errs, ("Always",))
    _selector(spec, "spec", errs, tmeta, "daemonset")
    us = spec.get("updateStrategy")
    if isinstance(us, dict):
        t = us.get("type")
        if t is not None and t not in ("OnDelete", "RollingUpdate"):
            errs.append(FieldError.not_supported("spec.updateStrategy.type", t, ("OnDelete", "RollingUpdate")))
        ru = us.get("rollingUpdate")
        if isinstance(ru, dict):
            _rolling(ru, "spec.updateStrategy.rollingUpdate", errs)
    return errs


def _statefulset(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [FieldError.required("spec.selector")]
    _replicas(spec, errs)
    tmeta = _template(spec, "spec", errs, ("Always",))
    _selector(spec, "spec", errs, tmeta, "statefulset")
    pmp = spec.get("podManagementPolicy")
    if pmp is not None and pmp not in ("OrderedReady", "Parallel"):
        errs.append(FieldError.not_supported("spec.podManagementPolicy", pmp, ("OrderedReady", "Parallel")))
    us = spec.get("updateStrategy")
    if isinstance(us, dict) and us.get("type") not in (None, "OnDelete", "RollingUpdate"):
        errs.append(FieldError.not_supported("spec.updateStrategy.type", us.get("type"), ("OnDelete", "RollingUpdate")))
    return errs


def _job_spec(spec: dict, p: str, errs: list, uid_labels: bool = True) -> None:
    for f in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        _non_negative(spec.get(f), f"{p}.{f}", errs)
    ads = spec.get("activeDeadlineSeconds")
    if _int(ads) and ads == 0:
        errs.append(FieldError.invalid(f"{p}.activeDeadlineSeconds", ads, "must be greater than 0"))
    cm = spec.get("completionMode")
    if cm is not None and cm not in ("Indexed", "NonIndexed"):
        errs.append(FieldError.not_supported(f"{p}.completionMode", cm, ("Indexed", "NonIndexed")))
    if cm == "Indexed" and spec.get("completions") is None:
        errs.append(FieldError.required(f"{p}.completions", "when completion mode is Indexed"))
    tmeta = _template(spec, p, errs, ("OnFailure", "Never"))
    if spec.get("selector") is not None or not uid_labels:
        _selector(spec, p, errs, tmeta, "job", required=False)


def _job(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [FieldError.required("spec.template")]
    _job_spec(spec, "spec", errs)
    return errs


def _cronjob(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [FieldError.required("spec.schedule")]
    sched = spec.get("schedule")
    if not sched:
        errs.append(FieldError.required("spec.schedule"))
    elif len(str(sched).split()) != 5 and not str(sched).startswith("@"):
        errs.append(FieldError.invalid("spec.schedule", sched, f"invalid schedule: expected exactly 5 fields, found "
                                       f"{len(str(sched).split())}: {sched}"))
    ccp = spec.get("concurrencyPolicy")
    if ccp is not None and ccp not in ("Allow", "Forbid", "Replace"):
        errs.append(FieldError.not_supported("spec.concurrencyPolicy", ccp, ("Allow", "Forbid", "Replace")))
    jt = spec.get("jobTemplate")
    if isinstance(jt, dict) and isinstance(jt.get("spec"), dict):
        _job_spec(jt["spec"], "spec.jobTemplate.spec", errs, uid_labels=False)
    else:
        errs.append(FieldError.required("spec.jobTemplate.spec.template"))
    return errs


# =====================================================================================
# services and friends
# =====================================================================================

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")


def _service(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = {}
    stype = spec.get("type", "ClusterIP")
    if stype not in _SERVICE_TYPES:
        errs.append(FieldError.not_supported("spec.type", stype, _SERVICE_TYPES))
    cip = spec.get("clusterIP")
    headless = cip == "None"
    if stype == "ExternalName":
        if not spec.get("externalName"):
            errs.append(FieldError.required("spec.externalName"))
    ports = spec.get("ports") or []
    if not ports and stype != "ExternalName" and not headless:
        errs.append(FieldError.required("spec.ports"))
    if headless and stype in ("NodePort", "LoadBalancer"):
        errs.append(FieldError.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {stype} services"))
    names: set = set()
    seen: set = set()
    for i, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        pp = f"spec.ports[{i}]"
        name = port.get("name")
        if len(ports) > 1 and not name:
            errs.append(FieldError.required(f"{pp}.name"))
        elif name:
            if not _is_label(name):
                errs.append(FieldError.invalid(f"{pp}.name", name, LABEL_MSG))
            if name in names:
                errs.append(FieldError.duplicate(f"{pp}.name", name))
            names.add(name)
        pn = port.get("port")
        if pn is None:
            errs.append(FieldError.required(f"{pp}.port"))
        elif _int(pn) and not 1 <= pn <= 65535:
            errs.append(FieldError.invalid(f"{pp}.port", pn, PORT_RANGE_MSG))
        proto = port.get("protocol", "TCP")
        if proto not in _PROTOCOLS:
            errs.append(FieldError.not_supported(f"{pp}.protocol", proto, _PROTOCOLS))
        if (pn, proto) in seen and _int(pn):
            errs.append(FieldError.duplicate(pp, GoLiteral(
                f'core.ServicePort{{Name:{go_repr(name or "")}, Protocol:"{proto}", Port:{pn}, ...}}')))
        seen.add((pn, proto))
        tp = port.get("targetPort")
        if _int(tp) and not 1 <= tp <= 65535:
            errs.append(FieldError.invalid(f"{pp}.targetPort", tp, PORT_RANGE_MSG))
        elif isinstance(tp, str):
            for m in _iana_errors(tp):
                errs.append(FieldError.invalid(f"{pp}.targetPort", tp, m))
        np_ = port.get("nodePort")
        if np_ and stype in ("ClusterIP", "ExternalName"):
            errs.append(FieldError.forbidden(f"{pp}.nodePort", f"may not be used when `type` is '{stype}'"))
    sel = spec.get("selector")
    if isinstance(sel, dict):
        errs.extend(_labels(sel, "spec.selector"))
    sa = spec.get("sessionAffinity")
    if sa is not None and sa not in ("ClientIP", "None"):
        errs.append(FieldError.not_supported("spec.sessionAffinity", sa, ("ClientIP", "None")))
    etp = spec.get("externalTrafficPolicy")
    if etp is not None:
        if stype not in ("NodePort", "LoadBalancer"):
            errs.append(FieldError.invalid("spec.externalTrafficPolicy", etp,
                                           "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
        elif etp not in ("Cluster", "Local"):
            errs.append(FieldError.not_supported("spec.externalTrafficPolicy", etp, ("Cluster", "Local")))
    itp = spec.get("internalTrafficPolicy")
    if itp is not None and itp not in ("Cluster", "Local"):
        errs.append(FieldError.not_supported("spec.internalTrafficPolicy", itp, ("Cluster", "Local")))
    if cip and cip != "None":
        try:
            ipaddress.ip_address(cip)
        except ValueError:
            errs.append(FieldError.invalid("spec.clusterIPs[0]", cip, "must be a valid IP address, (e.g. 10.9.8.7 "
                                           "or 2001:db8::ffff)"))
    return errs


def _endpoints(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, ss in enumerate(obj.get("subsets") or []):
        if not isinstance(ss, dict):
            continue
        for key in ("addresses", "notReadyAddresses"):
            for j, a in enumerate(ss.get(key) or []):
                ip = (a or {}).get("ip", "")
                try:
                    ipaddress.ip_address(ip)
                except ValueError:
                    errs.append(FieldError.invalid(f"subsets[{i}].{key}[{j}].ip", ip, "must be a valid IP address"))
        for j, p in enumerate(ss.get("ports") or []):
            pn = (p or {}).get("port")
            if _int(pn) and not 1 <= pn <= 65535:
                errs.append(FieldError.invalid(f"subsets[{i}].ports[{j}].port", pn, PORT_RANGE_MSG))
    return errs


def _data_keys(data: Any, field: str, errs: list) -> int:
    size = 0
    if not isinstance(data, dict):
        return 0
    for k, v in data.items():
        if not _CONFIG_KEY.match(k) or k in (".", ".."):
            errs.append(FieldError.invalid(f"{field}[{k}]", k, CONFIG_KEY_MSG))
        size += len(k) + len(v or "")
    return size


def _configmap(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    size = _data_keys(obj.get("data"), "data", errs) + _data_keys(obj.get("binaryData"), "binaryData", errs)
    for k in set(obj.get("data") or {}) & set(obj.get("binaryData") or {}):
        errs.append(FieldError.invalid(f"data[{k}]", k, "duplicate of key present in binaryData"))
    if size > 1024 * 1024:
        errs.append(FieldError.too_long("", 1048576))
    return errs


_SECRET_REQUIRED = {"kubernetes.io/tls": ("tls.crt", "tls.key"),
                    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
                    "kubernetes.io/dockercfg": (".dockercfg",),
                    "kubernetes.io/basic-auth": (),
                    "kubernetes.io/ssh-auth": ("ssh-privatekey",)}


def _secret(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    data = obj.get("data") or {}
    size = _data_keys(data, "data", errs)
    if size > 1024 * 1024:
        errs.append(FieldError.too_long("data", 1048576))
    for k in _SECRET_REQUIRED.get(obj.get("type", "Opaque"), ()):
        if k not in data:
            errs.append(FieldError.required(f"data[{k}]"))
    if obj.get("type") == "kubernetes.io/service-account-token":
        ann = (obj.get("metadata") or {}).get("annotations") or {}
        if not ann.get("kubernetes.io/service-account.name"):
            errs.append(FieldError.required("metadata.annotations[kubernetes.io/service-account.name]"))
    return errs


def _namespace(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, f in enumerate(((obj.get("spec") or {}).get("finalizers")) or []):
        msgs = validate_label_key(f)
        if msgs:
            errs.append(FieldError.invalid(f"spec.finalizers[{i}]", f, "; ".join(msgs)))
        elif "/" not in f and f != "kubernetes":
            errs.append(FieldError.invalid(f"spec.finalizers[{i}]", f, "name is neither a standard finalizer name nor "
                                           "is it fully qualified"))
    return errs


def _node(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec") or {}
    seen: set = set()
    for i, t in enumerate(spec.get("taints") or []):
        if not isinstance(t, dict):
            continue
        tp = f"spec.taints[{i}]"
        key = t.get("key")
        if not key:
            errs.append(FieldError.required(f"{tp}.key"))
        else:
            for m in validate_label_key(key):
                errs.append(FieldError.invalid(f"{tp}.key", key, m))
        v = t.get("value")
        if v:
            for m in validate_label_value(v):
                errs.append(FieldError.invalid(f"{tp}.value", v, m))
        eff = t.get("effect")
        if eff not in ("NoExecute", "NoSchedule", "PreferNoSchedule"):
            if not eff:
                errs.append(FieldError.required(f"{tp}.effect"))
            else:
                errs.append(FieldError.not_supported(f"{tp}.effect", eff, ("NoExecute", "NoSchedule", "PreferNoSchedule")))
        if (key, eff) in seen:
            errs.append(FieldError.duplicate(f"{tp}", GoLiteral(f'core.Taint{{Key:{go_repr(key)}, Value:{go_repr(v or "")}, '
                                                                f'Effect:{go_repr(eff)}, TimeAdded:<nil>}}')))
        seen.add((key, eff))
    for f in ("podCIDR",):
        v = spec.get(f)
        if v:
            try:
                ipaddress.ip_network(v, strict=False)
            except ValueError:
                errs.append(FieldError.invalid(f"spec.{f}", v, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or "
                                               "2001:db8::/64)"))
    return errs


def _lease(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec") or {}
    lds = spec.get("leaseDurationSeconds")
    if _int(lds) and lds <= 0:
        errs.append(FieldError.invalid("spec.leaseDurationSeconds", lds, "must be greater than 0"))
    lt = spec.get("leaseTransitions")
    _non_negative(lt, "spec.leaseTransitions", errs)
    return errs


def _csr(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = obj.get("spec") or {}
    if not spec.get("request"):
        errs.append(FieldError.invalid("spec.request", GoLiteral("[]byte(nil)"),
                                       "PEM block type must be CERTIFICATE REQUEST"))
    if not spec.get("signerName"):
        errs.append(FieldError.required("spec.signerName"))
    if not spec.get("usages"):
        errs.append(FieldError.required("spec.usages"))
    es = spec.get("expirationSeconds")
    if _int(es) and es < 600:
        errs.append(FieldError.invalid("spec.expirationSeconds", es, "may not specify a duration less than 600 seconds "
                                       "(10 minutes)"))
    return errs


def _rbac_rules(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, r in enumerate(obj.get("rules") or []):
        if not isinstance(r, dict):
            continue
        if not r.get("verbs"):
            errs.append(FieldError.required(f"rules[{i}].verbs", "verbs must contain at least one value"))
        if r.get("nonResourceURLs") and r.get("resources"):
            errs.append(FieldError.invalid(f"rules[{i}].nonResourceURLs", r["nonResourceURLs"],
                                           "rules cannot apply to both regular resources and non-resource URLs"))
    return errs


def _rbac_binding(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    ref = obj.get("roleRef") or {}
    if ref.get("apiGroup") != "rbac.authorization.k8s.io":
        errs.append(FieldError.not_supported("roleRef.apiGroup", ref.get("apiGroup", ""), ("rbac.authorization.k8s.io",)))
    if obj.get("kind") == "ClusterRoleBinding":
        if ref.get("kind") != "ClusterRole":
            errs.append(FieldError.not_supported("roleRef.kind", ref.get("kind", ""), ("ClusterRole",)))
    elif ref.get("kind") not in ("ClusterRole", "Role"):
        errs.append(FieldError.not_supported("roleRef.kind", ref.get("kind", ""), ("ClusterRole", "Role")))
    if not ref.get("name"):
        errs.append(FieldError.required("roleRef.name"))
    for i, s in enumerate(obj.get("subjects") or []):
        if not isinstance(s, dict):
            continue
        if not s.get("name"):
            errs.append(FieldError.required(f"subjects[{i}].name"))
        k = s.get("kind")
        if k not in ("Group", "ServiceAccount", "User"):
            errs.append(FieldError.not_supported(f"subjects[{i}].kind", k, ("Group", "ServiceAccount", "User")))
        elif k == "ServiceAccount" and not s.get("namespace"):
            errs.append(FieldError.required(f"subjects[{i}].namespace"))
    return errs


def _priorityclass(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    name = (obj.get("metadata") or {}).get("name") or ""
    v = obj.get("value")
    if name.startswith("system-") and name not in ("system-node-critical", "system-cluster-critical"):
        errs.append(FieldError.invalid("metadata.name", name, "priority class names with 'system-' prefix are reserved"))
    elif _int(v) and v > 1000000000 and not name.startswith("system-"):
        errs.append(FieldError.forbidden("value", "maximum allowed value of a user defined priority is 1000000000"))
    pp = obj.get("preemptionPolicy")
    if pp is not None and pp not in ("Never", "PreemptLowerPriority"):
        errs.append(FieldError.not_supported("preemptionPolicy", pp, ("Never", "PreemptLowerPriority")))
    return errs


def _binding(obj: dict) -> list[FieldError]:
    target = obj.get("target") or {}
    errs: list[FieldError] = []
    if not target.get("name"):
        errs.append(FieldError.required("target.name"))
    if target.get("kind") not in (None, "", "Node", "Minion"):
        errs.append(FieldError.not_supported("target.kind", target.get("kind"), ("Node", "<empty>")))
    return errs


def _event(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    io = obj.get("involvedObject") or {}
    ns = (obj.get("metadata") or {}).get("namespace")
    ions = io.get("namespace")
    if ions and ns and ions != ns and ns != "default":
        errs.append(FieldError.invalid("involvedObject.namespace", ions, "does not match event.namespace"))
    t = obj.get("type")
    if t is not None and t not in ("Normal", "Warning"):
        errs.append(FieldError.not_supported("type", t, ("Normal", "Warning")))
    return errs


_RULES: dict[str, Callable[[dict], list[FieldError]]] = {
    "Pod": _pod, "Deployment": _deployment, "ReplicaSet": _replicaset, "DaemonSet": _daemonset,
    "StatefulSet": _statefulset, "Job": _job, "CronJob": _cronjob, "Service": _service, "Endpoints": _endpoints,
    "ConfigMap": _configmap, "Secret": _secret, "Namespace": _namespace, "Node": _node, "Lease": _lease,
    "CertificateSigningRequest": _csr, "ClusterRole": _rbac_rules, "Role": _rbac_rules,
    "ClusterRoleBinding": _rbac_binding, "RoleBinding": _rbac_binding, "PriorityClass": _priorityclass,
    "Binding": _binding, "Event": _event,
}


def validate_object(obj: dict) -> list[FieldError]:
    """The kind-specific rules for a (defaulted) object, metadata labels included, name excluded."""
    rule = _RULES.get(obj.get("kind", ""))
    errs = rule(obj) if rule else []
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return _metadata_maps(meta) + errs


# =====================================================================================
# updates
# =====================================================================================

def _immutable(new: Any, old: Any, field: str, errs: list, value: Any = None) -> None:
    if new != old:
        errs.append(FieldError.invalid(field, new if value is None else value, IMMUTABLE))


def _pod_update(new: dict, old: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    # what may change: images, activeDeadlineSeconds (set or lowered), tolerations (additions)
    masked = dict(ns)
    for field in ("containers", "initContainers"):
        nc, oc = ns.get(field), os_.get(field)
        if isinstance(nc, list) and isinstance(oc, list) and len(nc) == len(oc):
            masked[field] = [dict(c, image=o.get("image")) if isinstance(c, dict) and isinstance(o, dict) else c
                             for c, o in zip(nc, oc)]
    nads, oads = ns.get("activeDeadlineSeconds"), os_.get("activeDeadlineSeconds")
    if nads is not None and (oads is None or (_int(nads) and _int(oads) and nads <= oads)):
        masked["activeDeadlineSeconds"] = oads
        if oads is None:
            masked.pop("activeDeadlineSeconds", None)
    elif nads is None and oads is not None:
        errs.append(FieldError.invalid("spec.activeDeadlineSeconds", GoLiteral("nil"),
                                       "must not update from a positive integer to nil value"))
        masked["activeDeadlineSeconds"] = oads
    nt, ot = ns.get("tolerations") or [], os_.get("tolerations") or []
    if all(t in nt for t in ot):
        if ot:
            masked["tolerations"] = os_.get("tolerations")
        else:
            masked.pop("tolerations", None)
            if "tolerations" in os_:
                masked["tolerations"] = os_["tolerations"]
    ngp, ogp = ns.get("terminationGracePeriodSeconds"), os_.get("terminationGracePeriodSeconds")
    if _int(ogp) and ogp < 0 and ngp == 1:
        masked["terminationGracePeriodSeconds"] = ogp
    if masked != os_:
        changed = sorted(k for k in set(masked) | set(os_) if masked.get(k) != os_.get(k))
        diff = "\n".join(f"  spec.{k}: {json.dumps(os_.get(k), sort_keys=True)} -> "
                         f"{json.dumps(masked.get(k), sort_keys=True)}" for k in changed)
        errs.append(FieldError.forbidden("spec", POD_UPDATE_FORBIDDEN + ("\n" + diff if diff else "")))
    return errs


def _selector_update(new: dict, old: dict, errs: list) -> None:
    nsel, osel = (new.get("spec") or {}).get("selector"), (old.get("spec") or {}).get("selector")
    if nsel != osel:
        errs.append(FieldError.invalid("spec.selector", label_selector_literal(nsel), IMMUTABLE))


def _job_update(new: dict, old: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    _selector_update(new, old, errs)
    if ns.get("completions") != os_.get("completions") and ns.get("completionMode") != "Indexed":
        _immutable(ns.get("completions"), os_.get("completions"), "spec.completions", errs)
    if ns.get("template") != os_.get("template") and not os_.get("suspend"):
        errs.append(FieldError.invalid("spec.template", GoLiteral("core.PodTemplateSpec{...}"), IMMUTABLE))
    _immutable(ns.get("completionMode"), os_.get("completionMode"), "spec.completionMode", errs)
    return errs


def _statefulset_update(new: dict, old: dict) -> list[FieldError]:
    ns, os_ = dict(new.get("spec") or {}), dict(old.get("spec") or {})
    for f in ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
              "minReadySeconds"):
        ns.pop(f, None)
        os_.pop(f, None)
    if ns != os_:
        return [FieldError.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', "
                                     "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                                     "and 'minReadySeconds' are forbidden")]
    return []


def _service_update(new: dict, old: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    ocip, ncip = os_.get("clusterIP"), ns.get("clusterIP")
    new_type, old_type = ns.get("type", "ClusterIP"), os_.get("type", "ClusterIP")
    if ocip and ncip != ocip and "ExternalName" not in (new_type, old_type):
        errs.append(FieldError.invalid("spec.clusterIPs[0]", GoLiteral(go_repr(ns.get("clusterIPs") or [ncip or ""])),
                                       "may not change once set"))
    return errs


def _secret_update(new: dict, old: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    _immutable(new.get("type", "Opaque"), old.get("type", "Opaque"), "type", errs)
    if old.get("immutable"):
        if new.get("immutable") is not True:
            errs.append(FieldError.forbidden("immutable", "field is immutable when `immutable` is set"))
        if new.get("data") != old.get("data"):
            errs.append(FieldError.forbidden("data", "field is immutable when `immutable` is set"))
    return errs


def _configmap_update(new: dict, old: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    if old.get("immutable"):
        if new.get("immutable") is not True:
            errs.append(FieldError.forbidden("immutable", "field is immutable when `immutable` is set"))
        if new.get("data") != old.get("data"):
            errs.append(FieldError.forbidden("data", "field is immutable when `immutable` is set"))
        if new.get("binaryData") != old.get("binaryData"):
            errs.append(FieldError.forbidden("binaryData", "field is immutable when `immutable` is set"))
    return errs


def _workload_update(new: dict, old: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    _selector_update(new, old, errs)
    return errs


def _rbac_binding_update(new: dict, old: dict) -> list[FieldError]:
    if new.get("roleRef") != old.get("roleRef"):
        ref = new.get("roleRef") or {}
        return [FieldError.invalid("roleRef", GoLiteral(
            f'rbac.RoleRef{{APIGroup:{go_repr(ref.get("apiGroup", ""))}, Kind:{go_repr(ref.get("kind", ""))}, '
            f'Name:{go_repr(ref.get("name", ""))}}}'), "cannot change roleRef")]
    return []


def _priorityclass_update(new: dict, old: dict) -> list[FieldError]:
    if new.get("value") != old.get("value"):
        return [FieldError.forbidden("value", "may not be changed in an update.")]
    return []


def _csr_update(new: dict, old: dict) -> list[FieldError]:
    if new.get("spec") != old.get("spec"):
        return [FieldError.invalid("spec", GoLiteral("certificates.CertificateSigningRequestSpec{...}"), IMMUTABLE)]
    return []


_UPDATE_RULES: dict[str, Callable[[dict, dict], list[FieldError]]] = {
    "Pod": _pod_update, "Deployment": _workload_update, "ReplicaSet": _workload_update,
    "DaemonSet": _workload_update, "StatefulSet": lambda n, o: _workload_update(n, o) + _statefulset_update(n, o),
    "Job": _job_update, "Service": _service_update, "Secret": _secret_update, "ConfigMap": _configmap_update,
    "ClusterRoleBinding": _rbac_binding_update, "RoleBinding": _rbac_binding_update,
    "PriorityClass": _priorityclass_update, "CertificateSigningRequest": _csr_update,
}


def validate_update(new: dict, old: dict, *, subresource: str | None = None) -> list[FieldError]:
    """Rules comparing an update with the stored object (immutable fields, pod restrictions)."""
    errs: list[FieldError] = []
    nm, om = new.get("metadata") or {}, old.get("metadata") or {}
    for f in ("name", "namespace", "uid", "creationTimestamp"):
        if f in nm and nm.get(f) != om.get(f):
            errs.append(FieldError.invalid(f"metadata.{f}", nm.get(f), IMMUTABLE))
    nf, of = nm.get("finalizers") or [], om.get("finalizers") or []
    if om.get("deletionTimestamp"):
        added = [f for f in nf if f not in of]
        if added:
            errs.append(FieldError.forbidden("metadata.finalizers", f"no new finalizers can be added if the object is "
                                             f"being deleted, found new finalizers {go_repr(added)}"))
    if subresource is None:
        rule = _UPDATE_RULES.get(new.get("kind", ""))
        if rule:
            errs.extend(rule(new, old))
    return errs
