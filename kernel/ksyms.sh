#!/usr/bin/env bash
# Writes the assembly for the symbol table of ELF $1 (text symbols, sorted).
set -euo pipefail
echo '    .section .ksyms, "a"'
echo '    .align 8'
echo '    .globl ksym_table, ksym_count'
echo 'ksym_table:'
i=0
nm -n --defined-only "$1" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' > "$1.syms"
while read -r addr name; do
    echo "    .quad 0x$addr, .Ls$i"
    i=$((i + 1))
done < "$1.syms"
echo 'ksym_count:'
echo "    .quad $i"
i=0
while read -r addr name; do
    echo ".Ls$i: .asciz \"$name\""
    i=$((i + 1))
done < "$1.syms"
echo '    .section .note.GNU-stack, "", @progbits'
