"""import-linter contract types the built-in ones cannot express (``pyproject.toml`` names them
under ``[tool.importlinter] contract_types``; ``lint-imports`` runs from the repository root)."""

from __future__ import annotations

import sys
from typing import Any

from importlinter import Contract, ContractCheck, fields, output


class AllowListContract(Contract):
    """``source_modules`` import nothing outside the standard library, ``allowed_modules`` and
    themselves (top-level names): a new dependency fails until the list names it, where a
    deny-list lets any unlisted one through."""

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        sources = [m.name for m in self.source_modules]  # type: ignore[attr-defined]
        allowed = set(self.allowed_modules) | set(sources) | set(sys.stdlib_module_names)  # type: ignore[arg-type]
        found = []
        for source in sources:
            for module in sorted({source} | graph.find_descendants(source)):
                for imported in sorted(graph.find_modules_directly_imported_by(module)):
                    if imported.split(".")[0] not in allowed:
                        lines = graph.get_import_details(importer=module, imported=imported)
                        at = ", ".join(str(d["line_number"]) for d in lines)
                        found.append(f"{module} -> {imported} (l. {at})")
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["found"]:
            output.print_error(line, bold=False)
