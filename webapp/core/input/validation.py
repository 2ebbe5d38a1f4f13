"""Name, label, port and CIDR checks, as the Kubernetes API server makes them.

Ported from k8s.io/apimachinery/pkg/util/validation/validation.go
(IsDNS1123Label, IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue,
IsValidPortName, IsValidPortNum), k8s.io/apimachinery/pkg/api/validation/objectmeta.go
(ValidateAnnotations) and from the ipBlock checks of
k8s.io/kubernetes/pkg/apis/networking/validation (ValidateIPBlock, with
netutils.ParseCIDRSloppy and the strict parsing of apimachinery's
pkg/util/validation/ip.go). Each check returns the API server's messages
(without the regular expression it appends); an empty list means valid.
Lengths are counted in bytes, as Go's `len` counts them.

Reference: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
and https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from webapp.core.model import IPNetwork

DNS1123_LABEL_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
QUALIFIED_NAME_MAX_LENGTH = 63
LABEL_VALUE_MAX_LENGTH = 63
PORT_NAME_MAX_LENGTH = 15
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_LABEL + r"(\." + _DNS1123_LABEL + ")*")
_QUALIFIED_NAME_RE = re.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PORT_NAME_CHARSET_RE = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER_RE = re.compile("[a-z]")
_IPV4_RE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_PREFIX_RE = re.compile("[0-9]+")

_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc')"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')"
)
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName' or 'my.name' or '123-abc')"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue' or "
    "'my_value' or '12345')"
)
_CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def _byte_length(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))


def _max_length_error(limit: int) -> str:
    return f"must be no more than {limit} characters"


def check_dns1123_label(value: str) -> list[str]:
    """IsDNS1123Label: Namespace names, metadata.namespace."""
    errors = []
    if _byte_length(value) > DNS1123_LABEL_MAX_LENGTH:
        errors.append(_max_length_error(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        # A valid subdomain within the length limit can only be wrong by its dots.
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            errors.append("must not contain dots")
        else:
            errors.append(_DNS1123_LABEL_MSG)
    return errors


def check_dns1123_subdomain(value: str) -> list[str]:
    """IsDNS1123Subdomain: names of NetworkPolicies, Pods and workloads; label key prefixes."""
    errors = []
    if _byte_length(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(_max_length_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errors.append(_DNS1123_SUBDOMAIN_MSG)
    return errors


def check_qualified_name(value: str) -> list[str]:
    """IsQualifiedName: label keys, an optional DNS-subdomain prefix and '/' before the name."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend(f"prefix part {msg}" for msg in check_dns1123_subdomain(prefix))
    else:
        return [
            f"a qualified name {_QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix "
            "and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif _byte_length(name) > QUALIFIED_NAME_MAX_LENGTH:
        errors.append(f"name part {_max_length_error(QUALIFIED_NAME_MAX_LENGTH)}")
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        errors.append(f"name part {_QUALIFIED_NAME_MSG}")
    return errors


def check_annotation_key(value: str) -> list[str]:
    """ValidateAnnotations: a qualified name, except that case does not matter."""
    return check_qualified_name(value.lower())


def annotations_size(annotations: Mapping[str, str], extra_bytes: int = 0) -> int:
    """The bytes ValidateAnnotationsSize counts: len(key) + len(value) of every entry.

    `extra_bytes` counts annotations that were read but not kept (the loader
    drops `kubectl.kubernetes.io/last-applied-configuration`, which the API
    server still counts).
    """
    return extra_bytes + sum(_byte_length(k) + _byte_length(v) for k, v in annotations.items())


def check_annotations_size(annotations: Mapping[str, str], extra_bytes: int = 0) -> list[str]:
    """ValidateAnnotations: all annotations together at most 256 KiB (field.TooLong)."""
    if annotations_size(annotations, extra_bytes) > TOTAL_ANNOTATION_SIZE_LIMIT:
        return [f"Too long: must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"]
    return []


def check_label_value(value: str) -> list[str]:
    """IsValidLabelValue: empty, or a qualified name without prefix, at most 63 characters."""
    errors = []
    if _byte_length(value) > LABEL_VALUE_MAX_LENGTH:
        errors.append(_max_length_error(LABEL_VALUE_MAX_LENGTH))
    if value and not _QUALIFIED_NAME_RE.fullmatch(value):
        errors.append(_LABEL_VALUE_MSG)
    return errors


def check_port_name(value: str) -> list[str]:
    """IsValidPortName (IANA_SVC_NAME): 1-15 of [-a-z0-9], a letter, no outer or double hyphen."""
    errors = []
    if _byte_length(value) > PORT_NAME_MAX_LENGTH:
        errors.append(_max_length_error(PORT_NAME_MAX_LENGTH))
    if not _PORT_NAME_CHARSET_RE.fullmatch(value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER_RE.search(value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def check_port_number(value: int) -> list[str]:
    """IsValidPortNum: 1 to 65535."""
    return [] if 1 <= value <= 65535 else ["must be between 1 and 65535, inclusive"]


@dataclass(frozen=True, slots=True)
class ParsedCIDR:
    """The outcome of reading one CIDR: a network, or the API server's error.

    `warnings` say what was read differently from how it is written (host bits
    set, leading zeros), as ParseCIDRSloppy accepts both.
    """

    network: IPNetwork | None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def parse_cidr(text: str) -> ParsedCIDR:
    """netutils.ParseCIDRSloppy: ADDRESS/PREFIX, IPv4 or IPv6, host bits masked off.

    Unlike Python's ipaddress, a bare address or a dotted netmask is not a
    CIDR, and IPv4 octets may carry leading zeros (read as decimal).

    An IPv4-mapped IPv6 address (`::ffff:10.0.0.0/104`) is an error, as the
    strict parsing (StrictIPCIDRValidation, KEP-4858) makes it: Go reads it as
    the IPv4 block 10.0.0.0/8, other software as an IPv6 block, so what the
    policy means would depend on the network plugin. Servers without that
    feature gate accept it with a warning.
    """
    address, slash, prefix = text.partition("/")
    if not slash or not _PREFIX_RE.fullmatch(prefix) or "%" in address:
        return ParsedCIDR(None, _CIDR_MSG)
    warnings: list[str] = []
    if _IPV4_RE.fullmatch(address):
        octets = address.split(".")
        if any(len(o) > 1 and o.startswith("0") for o in octets):
            address = ".".join(str(int(o)) for o in octets)
            warnings.append(f"leading zeros are read as decimal: {address}/{prefix}")
    try:
        ip = ipaddress.ip_address(address)
        network = ipaddress.ip_network(f"{address}/{int(prefix)}", strict=False)
    except ValueError:
        return ParsedCIDR(None, _CIDR_MSG)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ParsedCIDR(None, _ipv4_mapped_error(ip.ipv4_mapped, int(prefix)))
    if network.network_address != ip:
        warnings.append(f"host bits are set; the network {network} is used")
    return ParsedCIDR(network, None, tuple(warnings))


def _ipv4_mapped_error(ipv4: ipaddress.IPv4Address, prefix: int) -> str:
    message = "must not have an IPv4-mapped IPv6 address"
    if prefix < 96:
        return message
    block = ipaddress.IPv4Network(f"{ipv4}/{prefix - 96}", strict=False)
    return f"{message}; write the IPv4 CIDR {block}"


def check_except(cidr: IPNetwork, excepted: IPNetwork) -> list[str]:
    """ValidateIPBlock: each except must lie inside cidr and be strictly smaller."""
    if (
        cidr.version != excepted.version
        or not excepted.subnet_of(cidr)  # type: ignore[arg-type]
        or excepted.prefixlen <= cidr.prefixlen
    ):
        return ["must be a strict subset of `cidr`"]
    return []
