FROM alpine:3.20
RUN adduser -D app
COPY app /home/app/app
CMD ["/home/app/app"]
