"""The house rules, checked (`make structure`; tests/test_structure.py runs it in `make test`).

    python -m tools.structure        # prints what breaks a rule, exit 1; or "the house rules hold"

1. No import cycle: the modules of the project import one another one way only
   (every `import`, at the top of a module or inside a function, counts).
2. The student package never imports the grader: nothing in gan_assignment/
   imports checks/, tools/ or bench/.
3. No private name crosses a module: no `from module import _name`.
4. Every function fits one screen: at most 80 lines and 12 parameters.

It reads the source files; it imports nothing of the project, so it runs anywhere.
"""

import ast
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PACKAGES = ("gan_assignment", "checks", "tools", "bench", "tests")
STUDENT_PACKAGE, GRADER = "gan_assignment", ("checks", "tools", "bench")
MAX_LINES, MAX_PARAMETERS = 80, 12


def modules(root=PROJECT):
    """{dotted module name: its source file} of every Python file of the project's packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(tree, name, known):
    """The project modules that the module `name` (its syntax tree) imports, with the line of each import."""
    found = []
    package = name if (known.get(name) and known[name].name == "__init__.py") else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:   # relative: from .x import y
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.append((target, node.lineno))
    return found


def cycles(graph):
    """The import cycles of `graph` ({module: set of modules}), each as a sorted list (Tarjan's algorithm)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def parameters(function):
    args = function.args
    count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs) + bool(args.vararg) + bool(args.kwarg)
    return count - bool(args.args and args.args[0].arg in ("self", "cls"))


def problems(root=PROJECT):
    """Every breach of the house rules, as lines a newcomer can act on (empty when they all hold)."""
    known = modules(root)
    graph, found = {}, []
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(root)
        edges = imports(tree, name, known)
        graph[name] = {target for target, _ in edges}
        if name.split(".")[0] == STUDENT_PACKAGE:
            found += [f"{where}:{line}: the student package imports the grader ({target})"
                      for target, line in edges if target.split(".")[0] in GRADER]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found += [f"{where}:{node.lineno}: imports the private name {alias.name} from {node.module}"
                          for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_LINES:
                    found.append(f"{where}:{node.lineno}: {node.name} is {lines} lines long (at most {MAX_LINES})")
                if parameters(node) > MAX_PARAMETERS:
                    found.append(f"{where}:{node.lineno}: {node.name} takes {parameters(node)} parameters "
                                 f"(at most {MAX_PARAMETERS}: group the options)")
    found += [f"import cycle: {' <-> '.join(cycle)}" for cycle in cycles(graph)]
    return found


def main():
    found = problems()
    for line in found:
        print(line)
    print(f"{len(found)} breaches of the house rules" if found else
          "the house rules hold: no import cycle, the student package imports no grader, no private name "
          f"crosses a module, no function over {MAX_LINES} lines or {MAX_PARAMETERS} parameters")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
