#!/usr/bin/python3
"""inputs.py OUTDIR - write the inputs the real-program traces of this folder
are recorded from (record.sh runs it). Deterministic: every byte comes from
one 31-bit linear congruential generator with a fixed seed (no random module,
no clock, no download), so the same files come out on any machine and any
Python 3.

  text.txt     1500 lines of pseudo-words (perl, awk, sort)
  sales.csv    12000 rows: region,product,quantity,price (awk)
  workload.sql tables, inserts, an index, joins, aggregates, updates (sqlite3)
  program.c    a C program of 14 functions (cc1)
  check.c      the same kind with 10 (cppcheck)
  data.json    an array of records (jq)
"""
import os
import sys


class Lcg:
    def __init__(self, seed):
        self.x = seed

    def below(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return ((self.x >> 16) * n) >> 15  # the high bits: the low ones cycle


SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "va", "ze",
             "bri", "cha", "dro", "fle", "gru", "sta", "tho", "qua", "xen", "yor"]


def word(r):
    return "".join(SYLLABLES[r.below(len(SYLLABLES))] for _ in range(1 + r.below(4)))


def text(r, path):
    with open(path, "w") as f:
        for _ in range(1500):
            f.write(" ".join(word(r) for _ in range(1 + r.below(12))) + "\n")


def sales(r, path):
    regions = ["north", "south", "east", "west", "centre"]
    with open(path, "w") as f:
        f.write("region,product,quantity,price\n")
        for _ in range(12000):
            f.write("%s,%s,%d,%d.%02d\n" % (regions[r.below(5)], word(r), 1 + r.below(50),
                                           r.below(500), r.below(100)))


def sql(r, path):
    with open(path, "w") as f:
        f.write("CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT);\n")
        f.write("CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, "
                "item TEXT, qty INTEGER, note TEXT);\n")
        f.write("BEGIN;\n")
        for i in range(250):
            f.write("INSERT INTO customer VALUES(%d, '%s', '%s');\n" % (i, word(r), word(r)))
        for i in range(700):
            note = " ".join(word(r) for _ in range(r.below(20)))
            f.write("INSERT INTO orders VALUES(%d, %d, '%s', %d, '%s');\n"
                    % (i, r.below(250), word(r), 1 + r.below(9), note))
        f.write("COMMIT;\n")
        f.write("CREATE INDEX orders_customer ON orders(customer);\n")
        f.write("CREATE INDEX customer_city ON customer(city);\n")
        f.write("SELECT city, count(*), sum(qty) FROM customer JOIN orders "
                "ON orders.customer = customer.id GROUP BY city ORDER BY 3 DESC LIMIT 20;\n")
        f.write("SELECT item, group_concat(note, ' ') FROM orders GROUP BY item "
                "ORDER BY length(group_concat(note, ' ')) DESC LIMIT 5;\n")
        for _ in range(80):
            f.write("UPDATE orders SET note = note || ' %s' WHERE customer = %d;\n"
                    % (word(r), r.below(250)))
        f.write("DELETE FROM orders WHERE qty < 3;\n")
        f.write("SELECT name, (SELECT count(*) FROM orders WHERE customer = customer.id) AS n "
                "FROM customer ORDER BY n DESC, name LIMIT 10;\n")
        f.write("SELECT count(DISTINCT note) FROM orders;\n")


def program(r, path, nfn):
    """A C program of nfn functions of four kinds (list walks, string work,
    arithmetic loops, switches over an enum) over a few structs."""
    with open(path, "w") as f:
        f.write("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n")
        f.write("enum kind { K_NONE, K_LEAF, K_PAIR, K_LIST, K_TEXT, K_LAST };\n")
        f.write("struct node {\n\tstruct node *next;\n\tenum kind kind;\n\tlong key;\n"
                "\tdouble w;\n\tchar tag[16];\n};\n")
        f.write("struct table {\n\tstruct node **slot;\n\tsize_t n, used;\n};\n\n")
        for i in range(nfn):
            kind = r.below(4)
            f.write("long fn%d(struct table *t, struct node *p, long a)\n{\n" % i)
            f.write("\tlong acc = %d;\n" % r.below(600))
            if kind == 0:
                f.write("\tfor (struct node *q = p; q; q = q->next) {\n")
                f.write("\t\tif (q->key %s %d)\n\t\t\tacc += q->key * %d;\n"
                        % (["<", ">", "=="][r.below(3)], r.below(500), 1 + r.below(9)))
                f.write("\t\telse\n\t\t\tq->w = q->w * %d.5 + a;\n\t}\n" % r.below(9))
            elif kind == 1:
                f.write("\tchar buf[%d];\n" % (32 + 16 * r.below(8)))
                f.write("\tsnprintf(buf, sizeof(buf), \"%s-%%ld-%%s\", a, p ? p->tag : \"none\");\n"
                        % word(r))
                f.write("\tif (strcmp(buf, \"%s\") > 0)\n\t\tacc += (long)strlen(buf);\n" % word(r))
                f.write("\tchar *copy = malloc(strlen(buf) + %d);\n" % (1 + r.below(64)))
                f.write("\tif (copy) {\n\t\tstrcpy(copy, buf);\n\t\tacc ^= copy[0];\n"
                        "\t\tfree(copy);\n\t}\n")
            elif kind == 2:
                f.write("\tfor (long i = 0; i < a; i++) {\n")
                f.write("\t\tif ((i & %d) == 0)\n\t\t\tacc += i * %d;\n" % (r.below(16), r.below(97)))
                f.write("\t\telse\n\t\t\tacc -= i / %d;\n\t}\n" % (1 + r.below(13)))
                f.write("\tif (t && t->n)\n\t\tacc += (long)t->used % (long)t->n;\n")
            else:
                f.write("\tswitch (p ? p->kind : K_NONE) {\n")
                for c in ["K_LEAF", "K_PAIR", "K_LIST", "K_TEXT"][: 1 + r.below(4)]:
                    f.write("\tcase %s:\n\t\tacc += p->key * %d;\n\t\tbreak;\n" % (c, 1 + r.below(50)))
                f.write("\tdefault:\n\t\tacc = -acc;\n\t}\n")
            if i:
                f.write("\treturn acc + fn%d(t, p ? p->next : p, a / 2);\n}\n\n" % r.below(i))
            else:
                f.write("\treturn acc;\n}\n\n")
        f.write("int main(int argc, char **argv)\n{\n\tstruct node n = {0};\n")
        f.write("\tstruct table t = {0};\n\n\t(void)argv;\n")
        f.write("\tprintf(\"%%ld\\n\", fn%d(&t, &n, argc));\n\treturn 0;\n}\n" % (nfn - 1))


def json_records(r, path):
    with open(path, "w") as f:
        f.write("[\n")
        for i in range(1500):
            tags = ", ".join('"%s"' % word(r) for _ in range(r.below(5)))
            f.write('%s{"id": %d, "name": "%s", "score": %d, "tags": [%s], '
                    '"where": {"x": %d, "y": %d}}\n'
                    % ("," if i else "", i, word(r), r.below(10000), tags, r.below(100),
                       r.below(100)))
        f.write("]\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: inputs.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for seed, (fn, name) in enumerate([(text, "text.txt"), (sales, "sales.csv"),
                                       (sql, "workload.sql"), (lambda r, p: program(r, p, 4), "program.c"),
                                       (lambda r, p: program(r, p, 3), "check.c"),
                                       (json_records, "data.json")]):
        fn(Lcg(20261204 + seed), os.path.join(out, name))


main()
