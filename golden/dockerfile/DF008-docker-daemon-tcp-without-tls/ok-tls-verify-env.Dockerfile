FROM docker:27-dind
# dockerd and the docker CLI both turn --tlsverify on when DOCKER_TLS_VERIFY is set.
ENV DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/certs
ENV DOCKER_HOST=tcp://docker:2375
CMD dockerd -H tcp://0.0.0.0:2376 --tlscacert=/certs/ca.pem --tlscert=/certs/cert.pem --tlskey=/certs/key.pem
