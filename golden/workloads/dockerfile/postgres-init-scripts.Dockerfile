# workload: postgres with init scripts baked in (FROM postgres, COPY into docker-entrypoint-initdb.d)
# expect: final.USER absent; fix of DF002 is display-only
# expect: final.COPY ⊇ ["init.sql /docker-entrypoint-initdb.d/"]
# evidence: docker-library/postgres 17/bookworm/docker-entrypoint.sh#L336-L339
# evidence: docker-library/postgres 17/bookworm/docker-entrypoint.sh#L41-L59
FROM postgres:16
ENV POSTGRES_DB=app
COPY init.sql /docker-entrypoint-initdb.d/
