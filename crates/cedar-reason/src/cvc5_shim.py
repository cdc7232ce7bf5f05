"""An SMT-LIB front end for cvc5's Python package (PyPI's `cvc5` wheel carries the library, not the
`cvc5` executable): reads SMT-LIB 2 commands on standard input, runs each as soon as it is complete with
cvc5's own parser (`InputParser`), and prints what the command prints, as `cvc5 --lang smt` does.
Options given as `--name=value` (for example `--tlimit=60000`) are set on the solver; `--lang smt` is the
only language. Written for policy-check (MIT OR Apache-2.0)."""

import sys

import cvc5


def balanced(text):
    """Whether `text` holds only complete s-expressions (outside strings, quoted symbols, comments)."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == ";":
            j = text.find("\n", i)
            if j < 0:
                return depth == 0
            i = j
        elif c == '"':
            i += 1
            while i < n:
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        i += 1
                    else:
                        break
                i += 1
        elif c == "|":
            j = text.find("|", i + 1)
            if j < 0:
                return False
            i = j
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        i += 1
    return depth == 0 and i >= n


def main(argv):
    tm = cvc5.TermManager()
    options = []
    args = iter(argv)
    for a in args:
        if a == "--lang":
            lang = next(args, "smt")
            if lang not in ("smt", "smt2", "smt2.6", "smtlib2.6"):
                sys.stderr.write(f"cvc5 shim: only SMT-LIB input, not {lang}\n")
                return 1
        elif a.startswith("--") and "=" in a:
            options.append(tuple(a[2:].split("=", 1)))
        elif a.startswith("--"):
            options.append((a[2:], "true"))

    def fresh():
        # `(reset)` forgets everything, the logic and the symbols included, as the cvc5 binary does.
        s = cvc5.Solver(tm)
        for name, value in options:
            s.setOption(name, value)
        return s, cvc5.SymbolManager(tm)

    solver, sm = fresh()
    pending = ""
    for line in sys.stdin:
        pending += line
        if not pending.strip() or not balanced(pending):
            continue
        # One parser per complete chunk; declarations live in the shared symbol manager.
        parser = cvc5.InputParser(solver, sm)
        parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, pending, "<stdin>")
        pending = ""
        while True:
            try:
                cmd = parser.nextCommand()
            except Exception as e:  # a parse error: cvc5 reports it and stops
                msg = str(e).replace('"', '""')
                sys.stdout.write(f'(error "{msg}")\n')
                sys.stdout.flush()
                return 1
            if cmd.isNull():
                break
            text = str(cmd)
            if text.strip() == "(reset)":
                solver, sm = fresh()
                break
            try:
                out = cmd.invoke(solver, sm)
            except Exception as e:
                msg = str(e).replace('"', '""')
                out = f'(error "{msg}")\n'
            if out:
                sys.stdout.write(out if out.endswith("\n") else out + "\n")
                sys.stdout.flush()
            if text.strip().startswith("(exit"):
                return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
