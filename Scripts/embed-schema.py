#!/usr/bin/env python3
"""Copies Schema/<side>/*.sql into a Swift constant per migration, so that the binaries carry exactly the
reviewed SQL. A test checks that the migrated databases match the files; run this after adding a migration.

Usage: Scripts/embed-schema.py   (from the repository root)
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGETS = {
    "server": ("Sources/ReflectionsServer/ServerSchema.swift", "ServerSchema"),
    "server/postgres": ("Sources/ReflectionsServer/PostgresSchema.swift", "PostgresSchema"),
    "client": ("Sources/ReflectionsClient/ClientSchema.swift", "ClientSchema"),
}

for side, (out, name) in TARGETS.items():
    files = sorted((ROOT / "Schema" / side).glob("[0-9]*.sql"))
    if not files:
        continue
    text = f"/// The SQL of `Schema/{side}/*.sql`, one constant per migration (made by Scripts/embed-schema.py; a test\n"
    text += "/// checks that they match the files).\nenum " + name + " {\n"
    for f in files:
        number = re.match(r"(\d+)", f.name).group(1)
        text += f"    /// `Schema/{side}/{f.name}`\n"
        text += f"    static let v{number} = \"\"\"\n"
        for line in f.read_text().splitlines():
            text += ("        " + line).rstrip() + "\n"
        text += "        \"\"\"\n"
    text += "    /// Every migration, in order: (name, SQL).\n    static let migrations: [(name: String, sql: String)] = [\n"
    for f in files:
        number = re.match(r"(\d+)", f.name).group(1)
        # swift-format wants no trailing comma after a lone element.
        comma = "," if len(files) > 1 else ""
        text += f"        (\"{f.stem}\", v{number}){comma}\n"
    text += "    ]\n}\n"
    (ROOT / out).write_text(text)
    print(f"wrote {out} ({len(files)} migration(s))")
