"""Git repositories made by the tests (the test harness runs git here; the platform never does):
a bare repository ``<root>/<owner>/<name>.git`` and a working clone to commit to and push."""

import hashlib
import hmac
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

AUTHOR = ["-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com"]


def git(*args, cwd=None):
    result = subprocess.run(
        ["git", *AUTHOR, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Repository:
    def __init__(self, root, full_name, bare_suffix=".git"):
        owner, name = full_name.split("/")
        self.full_name = full_name
        self.bare = Path(root) / owner / f"{name}{bare_suffix}"
        shutil.rmtree(self.bare, ignore_errors=True)  # another test's repository of that name
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        git("init", "-q", "--bare", "-b", "main", str(self.bare))
        clones = Path(root) / ".work"  # removed with the root when the run ends
        clones.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix=f"{owner}-{name}-", dir=clones))
        git("init", "-q", "-b", "main", cwd=self.work)
        git("remote", "add", "origin", str(self.bare), cwd=self.work)

    def commit(self, files, message, branch="main"):
        """Write ``{path: text}`` on ``branch`` (created from the current one when new), commit
        and push; returns the commit hash."""
        current = git("symbolic-ref", "--short", "HEAD", cwd=self.work)
        if current != branch:
            exists = git("branch", "--list", branch, cwd=self.work)
            git("checkout", "-q", *([] if exists else ["-b"]), branch, cwd=self.work)
        for path, text in files.items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", message, cwd=self.work)
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def tag(self, name, commit="HEAD"):
        git("tag", "-a", name, "-m", f"release {name}", commit, cwd=self.work)
        git("push", "-q", "origin", f"refs/tags/{name}", cwd=self.work)


def python_function(text):
    """A Python function answering ``text``."""
    return f"def main(context):\n    return context.res.text({text!r})\n"


def github_push(repository, branch, commit, message="update"):
    return {
        "ref": f"refs/heads/{branch}",
        "before": "0" * 40,
        "after": commit,
        "repository": {"full_name": repository, "name": repository.split("/")[1]},
        "head_commit": {
            "id": commit,
            "message": message,
            "author": {"name": "Ada Lovelace", "username": "ada"},
        },
    }


def gitlab_push(repository, branch, commit):
    return {
        "object_kind": "push",
        "ref": f"refs/heads/{branch}",
        "before": "0" * 40,
        "after": commit,
        "checkout_sha": commit,
        "user_username": "ada",
        "project": {"path_with_namespace": repository},
    }


def signed(secret, payload):
    body = json.dumps(payload).encode()
    return body, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
