#!/bin/sh
# A trial in five lines of sh: its score is the sum of the choice indices ($NASBOX_GENOTYPE).
s=0; for i in $(echo "$NASBOX_GENOTYPE" | tr , ' '); do s=$((s + i)); done
echo "{\"epoch\": 1, \"objective\": $s}"
echo "{\"objective\": $s, \"metrics\": {\"params\": $((s * 100))}}" > "$NASBOX_RESULT_FILE.tmp" && mv "$NASBOX_RESULT_FILE.tmp" "$NASBOX_RESULT_FILE"
