"""Upload a built dataset folder to the hub: the card and sidecar first, then ``push_to_hub``.

``push_to_hub`` writes the parquet shards, removes stale ones and merges its
``dataset_info``/``configs`` YAML into the README already on the hub, so the
card's text survives. The endpoint is the library's (``HF_ENDPOINT``); the
token is ``--token``, else ``HF_TOKEN`` or the saved login.
"""

from __future__ import annotations

import logging
import re

from ..errors import InputError, PerfbenchError
from .folder import DATA_DIR, PublishResult

log = logging.getLogger(__name__)


def resolve_token(token: str | None) -> str:
    """The token to push with; a clear error instead of a 401 from the hub when there is none."""
    from huggingface_hub import get_token

    found = token or get_token()
    if not found:
        raise InputError(
            "no Hugging Face token: pass --token, set HF_TOKEN, or run `hf auth login`",
            field="token",
        )
    return found


def check_repo_id(repo_id: str) -> str:
    """``ORG/NAME`` with the characters the hub accepts; checked before anything is built."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*", repo_id):
        raise InputError(
            f"{repo_id!r} is not a hub repository id of the form ORG/NAME", field="repo-id"
        )
    return repo_id


def push_folder(
    result: PublishResult,
    repo_id: str,
    *,
    token: str | None = None,
    private: bool | None = None,
    commit_message: str | None = None,
) -> str:
    """Push ``result`` to the dataset repository ``repo_id``; returns the URL of the data commit."""
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    check_repo_id(repo_id)
    token = resolve_token(token)
    api = HfApi(token=token)
    folder = result.folder
    extra = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != DATA_DIR
    ]
    message = (
        commit_message
        or f"perfbench: publish {len(result.dataset_dict[result.split.name])} instances"
    )
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        log.info("pushing to %s", url)
        api.create_commit(
            repo_id,
            repo_type="dataset",
            operations=[
                CommitOperationAdd(
                    path_in_repo=p.relative_to(folder).as_posix(), path_or_fileobj=str(p)
                )
                for p in extra
            ],
            commit_message=f"{message}: dataset card and metadata",
        )
        info = result.dataset_dict.push_to_hub(
            repo_id, token=token, private=private, commit_message=message
        )
    except HfHubHTTPError as exc:
        raise PerfbenchError(f"pushing to {repo_id} failed: {exc}".splitlines()[0]) from exc
    log.info("pushed %d files to %s", len(result.files), repo_id)
    return str(info)
