# TAG feeds two images: a pin for one does not fit the other.
ARG TAG=latest
FROM ruby:${TAG} AS gems
FROM node:${TAG} AS assets
FROM gems
FROM redis
