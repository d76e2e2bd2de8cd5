"""A local stand-in for the Hugging Face hub: a real HTTP server on 127.0.0.1 for upload tests.

The hub cannot be reached from the test machines, so this server implements the
part of its HTTP API that ``huggingface_hub`` (and ``datasets.push_to_hub``)
use to create a dataset repository and commit files to it: repository create
and info, README YAML validation, preupload, the git-LFS batch API with basic
single-part upload and verify, NDJSON commits, tree listing, paths-info and
file download (``resolve``). Xet storage is not implemented, so clients must
run with ``HF_HUB_DISABLE_XET=1`` (they then use LFS, as the hub allows).

Repositories keep a linear history per branch; file contents are stored by
sha256 under ``root/objects`` and the head of ``main`` is mirrored as plain
files under ``root/<type>s/<namespace>/<name>/`` so tests can read what landed.
Requests that match no route get a 404 and are recorded in ``unhandled``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

USER = "perfbench-tester"
REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"


class HubError(Exception):
    """An HTTP error answer, with the headers ``huggingface_hub`` reads to classify it."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Entry:
    """One file of a commit: git blob id, size, and the sha256 of the content (LFS object id)."""

    path: str
    sha256: str
    size: int
    lfs: bool
    blob_id: str


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    files: dict[str, Entry]
    date: str


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: str
    branches: dict[str, list[Commit]] = field(default_factory=dict)

    def head(self, revision: str) -> Commit:
        revision = unquote(revision)
        if revision in self.branches:
            return self.branches[revision][-1]
        for history in self.branches.values():
            for c in history:
                if c.oid == revision:
                    return c
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class HubState:
    """Repositories and stored objects; every method runs under one lock."""

    def __init__(self, root: Path, token: str | None) -> None:
        self.root = root
        self.objects = root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.RLock()
        self.unhandled: list[str] = []
        self.requests: list[str] = []

    # ---- objects ---------------------------------------------------------

    def store(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self.objects / sha
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return sha

    def has_object(self, sha: str, size: int | None = None) -> bool:
        path = self.objects / sha
        return path.exists() and (size is None or path.stat().st_size == size)

    def read_object(self, sha: str) -> bytes:
        return (self.objects / sha).read_bytes()

    # ---- repositories ----------------------------------------------------

    def repo(self, repo_type: str, repo_id: str, *, authorized: bool) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not authorized):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def create_repo(self, repo_type: str, repo_id: str, private: bool) -> tuple[Repo, bool]:
        key = (repo_type, repo_id)
        if key in self.repos:
            return self.repos[key], False
        initial = Commit(
            oid=hashlib.sha1(f"init {repo_type} {repo_id}".encode()).hexdigest(),
            parent=None,
            title="initial commit",
            files={},
            date=_now(),
        )
        repo = Repo(repo_type, repo_id, private, _now(), {"main": [initial]})
        self.repos[key] = repo
        self.materialize(repo)
        return repo, True

    def commit(
        self,
        repo: Repo,
        revision: str,
        header: dict[str, Any],
        ops: list[tuple[str, dict[str, Any]]],
    ) -> Commit:
        branch = unquote(revision)
        if branch not in repo.branches:
            raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        head = repo.branches[branch][-1]
        parent = header.get("parentCommit")
        if parent and parent != head.oid:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(head.files)
        for key, value in ops:
            path = value["path"].strip("/")
            if key == "file":
                if value.get("encoding") != "base64":
                    raise HubError(400, f"unsupported encoding {value.get('encoding')!r}")
                data = base64.b64decode(value["content"])
                files[path] = Entry(path, self.store(data), len(data), False, git_blob_id(data))
            elif key == "lfsFile":
                oid, size = value["oid"], int(value["size"])
                if not self.has_object(oid, size):
                    raise HubError(422, f"LFS object {oid} for {path} was not uploaded")
                pointer = LFS_POINTER.format(oid=oid, size=size).encode()
                files[path] = Entry(path, oid, size, True, git_blob_id(pointer))
            elif key == "deletedFile":
                if path not in files:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                del files[path]
            elif key == "deletedFolder":
                files = {p: e for p, e in files.items() if not p.startswith(path + "/")}
            else:
                raise HubError(400, f"unsupported commit operation {key!r}")
        title = str(header.get("summary", ""))
        blob = json.dumps([head.oid, title, sorted((p, e.blob_id) for p, e in files.items())])
        c = Commit(hashlib.sha1(blob.encode()).hexdigest(), head.oid, title, files, _now())
        repo.branches[branch].append(c)
        if branch == "main":
            self.materialize(repo)
        return c

    def materialize(self, repo: Repo) -> None:
        """Mirror the head of main as plain files, for tests to read."""
        dest = self.repo_dir(repo.repo_type, repo.repo_id)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for entry in repo.branches["main"][-1].files.values():
            target = dest / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.objects / entry.sha256, target)

    def repo_dir(self, repo_type: str, repo_id: str) -> Path:
        return self.root / f"{repo_type}s" / repo_id


_API_REPO = re.compile(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+?)(?:/(.*))?$")
_LFS_BATCH = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)\.git/info/lfs/objects/batch$")
_RESOLVE = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_LFS_OBJECT = re.compile(r"^/_lfs/([0-9a-f]{64})(/verify)?$")


class Handler(BaseHTTPRequestHandler):
    """Routes requests to the hub state; answers JSON the way the hub does."""

    server: FakeHubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("fake hub: " + format, *args)

    # ---- plumbing --------------------------------------------------------

    @property
    def state(self) -> HubState:
        return self.server.state

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            return self.rfile.read(n)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _json(self, body: bytes) -> Any:
        try:
            return json.loads(body or b"{}")
        except json.JSONDecodeError as exc:
            raise HubError(400, f"invalid JSON: {exc}") from None

    def _send(
        self,
        status: int,
        payload: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type", "application/octet-stream" if raw is not None else "application/json"
        )
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _authorized(self) -> bool:
        if self.state.token is None:
            return True
        return self.headers.get("Authorization", "") == f"Bearer {self.state.token}"

    def _require_auth(self) -> None:
        auth = self.headers.get("Authorization")
        if self.state.token is None:
            return
        if not auth:
            raise HubError(401, "You must be authenticated to access this resource")
        if not self._authorized():
            raise HubError(401, "Invalid credentials in Authorization header")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = unquote(url.path) if not url.path.startswith("/api/") else url.path
        with self.state.lock:
            self.state.requests.append(f"{method} {url.path}")
        try:
            body = self._body() if method in ("POST", "PUT") else b""
            handled = self._route(method, path, body)
            if not handled:
                with self.state.lock:
                    self.state.unhandled.append(f"{method} {self.path}")
                raise HubError(404, f"fake hub: no route for {method} {url.path}")
        except HubError as exc:
            headers = {"X-Error-Message": str(exc)}
            if exc.code:
                headers["X-Error-Code"] = exc.code
            self._send(exc.status, {"error": str(exc)}, headers=headers, head=method == "HEAD")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # ---- routes ----------------------------------------------------------

    def _route(self, method: str, path: str, body: bytes) -> bool:
        st = self.state
        if path == "/api/whoami-v2" and method == "GET":
            self._require_auth()
            self._send(
                200,
                {
                    "type": "user",
                    "name": USER,
                    "orgs": [],
                    "auth": {"accessToken": {"role": "write"}},
                },
            )
            return True
        if path == "/api/repos/create" and method == "POST":
            self._require_auth()
            self._create_repo(self._json(body))
            return True
        if path == "/api/agent-harnesses" and method == "GET":  # user-agent telemetry registry
            self._send(200, {"standardEnvVars": [], "harnesses": {}})
            return True
        if path == "/api/validate-yaml" and method == "POST":
            self._send(200, {"errors": [], "warnings": []})
            return True
        if m := _LFS_OBJECT.match(path):
            self._lfs_object(method, m.group(1), bool(m.group(2)), body)
            return True
        if m := _LFS_BATCH.match(path):
            if method != "POST":
                return False
            self._require_auth()
            with st.lock:
                st.repo(m.group(1)[:-1] if m.group(1) else "model", m.group(2), authorized=True)
            self._lfs_batch(self._json(body))
            return True
        if m := _API_REPO.match(path):
            return self._api_repo(
                method, REPO_TYPES[m.group(1)], unquote(m.group(2)), m.group(3) or "", body
            )
        if (m := _RESOLVE.match(path)) and method in ("GET", "HEAD"):
            repo_type = m.group(1)[:-1] if m.group(1) else "model"
            self._resolve(method, repo_type, m.group(2), m.group(3), m.group(4))
            return True
        return False

    def _create_repo(self, payload: dict[str, Any]) -> None:
        repo_type = payload.get("type") or "model"
        name = payload.get("name")
        org = payload.get("organization") or USER
        if not name:
            raise HubError(400, "missing repository name")
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        repo_id = f"{org}/{name}"
        with self.state.lock:
            _, created = self.state.create_repo(repo_type, repo_id, private)
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self.server.endpoint}/{prefix}{repo_id}"
        if not created:
            self._send(
                409,
                {"error": "You already created this dataset repo", "url": url},
                headers={"X-Error-Message": "You already created this dataset repo"},
            )
            return
        self._send(200, {"url": url, "name": repo_id, "id": repo_id})

    def _api_repo(self, method: str, repo_type: str, repo_id: str, rest: str, body: bytes) -> bool:
        st = self.state
        with st.lock:
            repo = st.repo(repo_type, repo_id, authorized=self._authorized())
        parts = rest.split("/", 1) if rest else [""]
        action, tail = parts[0], (parts[1] if len(parts) > 1 else "")
        if method == "GET" and action in ("", "revision"):
            revision = unquote(tail) if action == "revision" else "main"
            with st.lock:
                self._send(200, self._repo_info(repo, repo.head(revision)))
            return True
        if method == "POST" and action == "preupload":
            self._require_auth()
            self._preupload(repo, tail, self._json(body))
            return True
        if method == "POST" and action == "commit":
            self._require_auth()
            self._commit(repo, tail, body)
            return True
        if method == "GET" and action == "tree":
            revision, _, sub = tail.partition("/")
            with st.lock:
                head = repo.head(revision)
            self._send(
                200,
                self._tree(
                    head,
                    unquote(sub).strip("/"),
                    self.query.get("recursive") in ("1", "true", "True"),
                ),
            )
            return True
        if method == "POST" and action == "paths-info":
            with st.lock:
                head = repo.head(tail)
            self._paths_info(head, body)
            return True
        return False

    def _repo_info(self, repo: Repo, head: Commit) -> dict[str, Any]:
        return {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": head.oid,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "createdAt": repo.created_at,
            "lastModified": head.date,
            "tags": [],
            "downloads": 0,
            "likes": 0,
            "siblings": [
                self._sibling(e) for e in sorted(head.files.values(), key=lambda e: e.path)
            ],
        }

    @staticmethod
    def _sibling(e: Entry) -> dict[str, Any]:
        out: dict[str, Any] = {"rfilename": e.path, "size": e.size, "blobId": e.blob_id}
        if e.lfs:
            pointer = len(LFS_POINTER.format(oid=e.sha256, size=e.size))
            out["lfs"] = {"size": e.size, "sha256": e.sha256, "pointerSize": pointer}
        return out

    def _preupload(self, repo: Repo, revision: str, payload: dict[str, Any]) -> None:
        with self.state.lock:
            head = repo.head(revision)
        files = []
        for f in payload.get("files", []):
            sample = base64.b64decode(f.get("sample", ""))
            binary = b"\0" in sample or f["path"].endswith(
                (".parquet", ".arrow", ".bundle", ".png")
            )
            lfs = binary or int(f.get("size", 0)) > 10 * 1024 * 1024
            existing = head.files.get(f["path"])
            oid = (existing.sha256 if existing.lfs else existing.blob_id) if existing else None
            files.append(
                {
                    "path": f["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": oid,
                }
            )
        self._send(200, {"files": files, "commitOid": head.oid})

    def _lfs_batch(self, payload: dict[str, Any]) -> None:
        if payload.get("operation") != "upload":
            raise HubError(400, "the fake hub's LFS batch API only uploads")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = obj["oid"], int(obj["size"])
            entry: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if not self.state.has_object(oid, size):
                base = f"{self.server.endpoint}/_lfs/{oid}"
                entry["actions"] = {
                    "upload": {"href": base, "header": {}},
                    "verify": {"href": f"{base}/verify", "header": {}},
                }
            objects.append(entry)
        self._send(200, {"transfer": "basic", "objects": objects})

    def _lfs_object(self, method: str, oid: str, verify: bool, body: bytes) -> None:
        if verify and method == "POST":
            payload = self._json(body)
            if payload.get("oid") != oid or not self.state.has_object(
                oid, int(payload.get("size", -1))
            ):
                raise HubError(422, f"LFS object {oid} missing or of the wrong size")
            self._send(200, {"success": True})
            return
        if method != "PUT" or verify:
            raise HubError(405, "method not allowed")
        if hashlib.sha256(body).hexdigest() != oid:
            raise HubError(400, "uploaded content does not match its sha256")
        self.state.store(body)
        self._send(200, {})

    def _commit(self, repo: Repo, revision: str, body: bytes) -> None:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "a commit starts with a header line")
        ops = [(line["key"], line["value"]) for line in lines[1:]]
        with self.state.lock:
            c = self.state.commit(repo, revision, lines[0]["value"], ops)
        prefix = "" if repo.repo_type == "model" else f"{repo.repo_type}s/"
        self._send(
            200,
            {
                "success": True,
                "commitOid": c.oid,
                "commitUrl": f"{self.server.endpoint}/{prefix}{repo.repo_id}/commit/{c.oid}",
                "pullRequestUrl": None,
            },
        )

    @staticmethod
    def _entry_json(e: Entry) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "file", "oid": e.blob_id, "size": e.size, "path": e.path}
        if e.lfs:
            pointer = len(LFS_POINTER.format(oid=e.sha256, size=e.size))
            out["lfs"] = {"oid": e.sha256, "size": e.size, "pointerSize": pointer}
        return out

    def _tree(self, head: Commit, sub: str, recursive: bool) -> list[dict[str, Any]]:
        prefix = sub + "/" if sub else ""
        if sub and sub in head.files:
            raise HubError(400, f"{sub} is a file, not a folder")
        matched = [e for p, e in head.files.items() if p.startswith(prefix)]
        if sub and not matched:
            raise HubError(404, f"{sub} does not exist", "EntryNotFound")
        out: dict[str, dict[str, Any]] = {}
        for e in sorted(matched, key=lambda e: e.path):
            rel = e.path[len(prefix) :]
            parts = rel.split("/")
            for depth in range(1, len(parts)):
                folder = prefix + "/".join(parts[:depth])
                if recursive or depth == 1:
                    out.setdefault(
                        folder,
                        {
                            "type": "directory",
                            "oid": hashlib.sha1(folder.encode()).hexdigest(),
                            "size": 0,
                            "path": folder,
                        },
                    )
                if not recursive:
                    break
            if recursive or len(parts) == 1:
                out[e.path] = self._entry_json(e)
        return list(out.values())

    def _paths_info(self, head: Commit, body: bytes) -> None:
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            paths = self._json(body).get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        out = []
        for p in paths:
            p = p.strip("/")
            if p in head.files:
                out.append(self._entry_json(head.files[p]))
            elif any(f.startswith(p + "/") for f in head.files):
                out.append(
                    {
                        "type": "directory",
                        "oid": hashlib.sha1(p.encode()).hexdigest(),
                        "size": 0,
                        "path": p,
                    }
                )
        self._send(200, out)

    def _resolve(self, method: str, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        with self.state.lock:
            repo = self.state.repo(repo_type, repo_id, authorized=self._authorized())
            head = repo.head(revision)
            entry = head.files.get(path)
            if entry is None:
                raise HubError(404, "Entry not found", "EntryNotFound")
            data = self.state.read_object(entry.sha256)
        etag = entry.sha256 if entry.lfs else entry.blob_id
        headers = {"ETag": f'"{etag}"', "X-Repo-Commit": head.oid, "Accept-Ranges": "bytes"}
        if entry.lfs:
            headers["X-Linked-Etag"] = f'"{entry.sha256}"'
            headers["X-Linked-Size"] = str(entry.size)
        status = 200
        rng = self.headers.get("Range")
        if rng and (m := re.match(r"bytes=(\d*)-(\d*)$", rng.strip())):
            start = int(m.group(1)) if m.group(1) else max(0, len(data) - int(m.group(2)))
            end = int(m.group(2)) if m.group(1) and m.group(2) else len(data) - 1
            end = min(end, len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start : end + 1], 206
        self._send(status, raw=data, headers=headers, head=method == "HEAD")


class FakeHubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: HubState) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        self.endpoint = f"http://127.0.0.1:{self.server_address[1]}"


class FakeHub:
    """Start with ``with FakeHub(tmp_path, token="hf_x") as hub:``; ``hub.endpoint`` is its URL."""

    def __init__(self, root: Path, token: str | None = None) -> None:
        self.state = HubState(Path(root), token)
        self.server = FakeHubServer(self.state)
        self.endpoint = self.server.endpoint
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="fake-hub", daemon=True
        )

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    @property
    def unhandled(self) -> list[str]:
        return list(self.state.unhandled)

    @property
    def requests(self) -> list[str]:
        return list(self.state.requests)

    def repo_dir(self, repo_id: str, repo_type: str = "dataset") -> Path:
        """The head of ``main`` as plain files."""
        return self.state.repo_dir(repo_type, repo_id)

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        return self.state.repos[(repo_type, repo_id)]
