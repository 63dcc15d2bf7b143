#!/bin/sh
# Fails (listing the files) if any tracked C source differs from what
# clang-format makes of it with the root .clang-format.
set -eu
fmt=${1:-clang-format}
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*'); do
    if ! "$fmt" --style=file "$f" | cmp -s - "$f"; then
        echo "not formatted: $f (run: $fmt -i --style=file $f)"
        bad=1
    fi
done
exit $bad
