FROM docker:27-dind
RUN (dockerd --host=tcp://127.0.0.1:2375 &) && sleep 5 && docker --version
ENTRYPOINT ["dockerd-entrypoint.sh"]
CMD ["--host", "tcp://0.0.0.0:2375", "--tls"]
