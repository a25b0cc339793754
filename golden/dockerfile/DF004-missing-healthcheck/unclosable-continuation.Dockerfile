# The last line ends in an escape character, after a literal one and blanks: removing the dangling
# escape would leave the line continued, so no HEALTHCHECK can be appended (BuildKit would read it
# as more arguments of VOLUME).
FROM nginx:1.27-alpine
EXPOSE 80
VOLUME /config \	 \	
