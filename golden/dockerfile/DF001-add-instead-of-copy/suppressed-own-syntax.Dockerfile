FROM alpine:3.20
ADD app /app # not a comment: Dockerfiles have none at the end of a line
# dockharden: ignore=DF001
ADD conf /conf
