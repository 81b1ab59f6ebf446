"""docs/API.md, generated from the comments of proto/cohort/v1/cohort_service.proto.

    python -m server.api_reference > docs/API.md

protoc parses the proto (with the same include paths as server.codegen) into a descriptor
with source info, whose locations carry each element's leading comment and line; the
reference lists the service's RPCs, then every message and enum in file order.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from google.protobuf import descriptor_pb2 as d
from grpc_tools import protoc

from server.codegen import PROTO, PROTO_ROOT, include_paths

# descriptor field numbers that make up source-location paths
MESSAGE, ENUM, SERVICE, FIELD, VALUE, METHOD, SYNTAX = 4, 5, 6, 2, 2, 2, 12
SourcePath = tuple[int, ...]

SCALARS = {getattr(d.FieldDescriptorProto, name): name.removeprefix("TYPE_").lower()
           for name in d.FieldDescriptorProto.Type.keys()}


def parse_proto(proto: Path = PROTO) -> d.FileDescriptorProto:
    """The proto's descriptor with source info (comments and line spans)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "descriptor.pb"
        args = ["grpc_tools.protoc", *(f"-I{path}" for path in include_paths()),
                "--include_source_info", f"--descriptor_set_out={out}", str(PROTO_ROOT / proto)]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed for {proto}")
        return d.FileDescriptorSet.FromString(out.read_bytes()).file[0]


class _Comments:
    def __init__(self, file: d.FileDescriptorProto):
        self._by_path = {tuple(loc.path): loc for loc in file.source_code_info.location}

    def text(self, path: SourcePath) -> str:
        loc = self._by_path.get(path)
        return " ".join(loc.leading_comments.split()) if loc else ""

    def paragraphs(self, path: SourcePath) -> str:
        """A leading comment with its paragraph breaks kept."""
        loc = self._by_path.get(path)
        if loc is None:
            return ""
        blocks = loc.leading_comments.strip().split("\n\n")
        return "\n\n".join(" ".join(block.split()) for block in blocks)

    def header(self) -> str:
        """The file's opening comment (the one above the `syntax` line)."""
        return self.paragraphs((SYNTAX,))

    def line(self, path: SourcePath) -> int:
        return self._by_path[path].span[0]


def _anchor(name: str) -> str:
    return name.lower()


def _type(field: d.FieldDescriptorProto, package: str) -> str:
    if field.type_name:
        name = field.type_name.removeprefix(".")
        local = name.removeprefix(f"{package}.")
        text = f"[`{local}`](#{_anchor(local)})" if local != name else f"`{name}`"
    else:
        text = f"`{SCALARS[field.type]}`"
    if field.label == d.FieldDescriptorProto.LABEL_REPEATED:
        return f"repeated {text}"
    return f"optional {text}" if field.proto3_optional else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _service(file: d.FileDescriptorProto, notes: _Comments) -> Iterator[str]:
    for s, service in enumerate(file.service):
        yield f"## Service `{file.package}.{service.name}`\n"
        if text := notes.paragraphs((SERVICE, s)):
            yield text + "\n"
        for m, method in enumerate(service.method):
            stream = "stream " if method.server_streaming else ""
            request, response = (t.removeprefix(f".{file.package}.")
                                 for t in (method.input_type, method.output_type))
            yield (f"### `{method.name}`\n\n`{method.name}(`[`{request}`](#{_anchor(request)})"
                   f"`) → {stream}`[`{response}`](#{_anchor(response)})\n")
            yield notes.paragraphs((SERVICE, s, METHOD, m)) + "\n"


def _message(i: int, message: d.DescriptorProto, file: d.FileDescriptorProto,
             notes: _Comments) -> Iterator[str]:
    if message.nested_type or message.enum_type:
        raise ValueError(f"{message.name}: nested types are not rendered; declare them at top "
                         "level or extend server.api_reference")
    yield f"### `{message.name}`\n"
    if text := notes.paragraphs((MESSAGE, i)):
        yield text + "\n"
    if message.field:
        yield "| field | number | type | description |\n|---|---|---|---|"
        for j, field in enumerate(message.field):
            text = _cell(notes.text((MESSAGE, i, FIELD, j)))
            yield f"| `{field.name}` | {field.number} | {_type(field, file.package)} | {text} |"
        yield ""


def _enum(i: int, enum: d.EnumDescriptorProto, notes: _Comments) -> Iterator[str]:
    yield f"### `{enum.name}`\n\n*Enum.*\n"
    if text := notes.paragraphs((ENUM, i)):
        yield text + "\n"
    yield "| value | number | description |\n|---|---|---|"
    for j, value in enumerate(enum.value):
        yield f"| `{value.name}` | {value.number} | {_cell(notes.text((ENUM, i, VALUE, j)))} |"
    yield ""


def render(file: d.FileDescriptorProto) -> str:
    notes = _Comments(file)
    types = [(notes.line((MESSAGE, i)), _message(i, m, file, notes))
             for i, m in enumerate(file.message_type)]
    types += [(notes.line((ENUM, i)), _enum(i, e, notes)) for i, e in enumerate(file.enum_type)]
    lines = [
        f"# gRPC API reference (`{file.package}`)\n",
        f"Generated from `proto/{file.name}` by `python -m server.api_reference > docs/API.md`;"
        " do not edit by hand (a test compares). The proto's comments are the source.\n",
        notes.header() + "\n",
        *_service(file, notes),
        "## Messages and enums\n",
        "In the order of the proto file.\n",
    ]
    for _, section in sorted(types, key=lambda pair: pair[0]):
        lines += section
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    sys.stdout.write(render(parse_proto()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
