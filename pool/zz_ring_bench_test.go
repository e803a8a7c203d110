package pool

import "testing"

func BenchmarkZZRingPushPop(b *testing.B) {
	var q ring
	r := taskRec{key: "x", label: "y"}
	var out taskRec
	for b.Loop() {
		q.push(&r, 1024)
		q.pop(&out)
	}
}

func BenchmarkZZCopy(b *testing.B) {
	var a, c taskRec
	a.key = "x"
	for b.Loop() {
		c = a
		a = c
		c = taskRec{}
	}
}
