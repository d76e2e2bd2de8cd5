# perfbench layer 3: one instance, its base and expert variants built. Trees come
# from `git archive` on the host: no .git, so no commit after base is readable.
ARG ENV_IMAGE
FROM ${ENV_IMAGE}
COPY base/ /pb/base/tree/
RUN python3 /pb/etc/pbbuild.py variant /pb/base
COPY expt/ /pb/expt/tree/
RUN python3 /pb/etc/pbbuild.py variant /pb/expt
