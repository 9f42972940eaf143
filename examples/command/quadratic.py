"""A trial in a few lines of Python: a known function of the architecture, best at x=3, y=-1, kind="b"."""
import json, os

trial = json.load(open(os.environ["NASBOX_TRIAL_FILE"]))
arch = trial["arch"]
score = -((arch["x"] - 3) ** 2) - (arch["y"] + 1) ** 2 + (0.5 if arch["kind"] == "b" else 0.0)
print(json.dumps({"epoch": 1, "objective": score}), flush=True)
with open(trial["result_file"] + ".tmp", "w") as f:
    json.dump({"objective": score, "metrics": {"x": arch["x"], "y": arch["y"]}}, f)
os.replace(trial["result_file"] + ".tmp", trial["result_file"])
