# The image an agent works in: the base variant only, its history cut at base_commit
# (made on the host: one branch, no tags, remotes or reflog), no workloads, no expert
# patch, no dataset files.
ARG ENV_IMAGE
FROM ${ENV_IMAGE}
COPY repo/ /pb/base/tree/
RUN python3 /pb/etc/pbbuild.py variant /pb/base --agent && ln -s /pb/base/tree /testbed
WORKDIR /pb/base/tree
CMD ["/bin/bash"]
