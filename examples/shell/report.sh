#!/bin/sh
# Sums the fruit list that the build's RUN steps wrote, and prints the build's own notes.
set -e
total=0
while read -r name count; do
  echo "$name: $count"
  total=$((total + count))
done < data/fruit.txt
echo "$TOTAL_LABEL: $total"
cat data/built.txt
echo "files: $(cut -d' ' -f2 data/index.txt | tr '\n' ' ')"
