"""Counts words in a text kept in the box, and writes a summary next to it."""
import collections
import json
import sys

text = "the box runs the same code in node in a browser and on the edge the same way"
counts = collections.Counter(text.split())
top = counts.most_common(3)
print(f"python {sys.version_info.major}.{sys.version_info.minor}: top words {top}")
with open("summary.json", "w") as f:
    json.dump(dict(top), f)
print(open("summary.json").read())
sys.exit(0)
