module cpprof.test/testserver

go 1.19
