module cpprof.test/client

go 1.19
