import { describe, expect, it } from 'vitest'
import { cellsOf, markStarted, RunCells } from './run-cells.js'

describe('run cells', () => {
  it('tells a run thread by its cell once the thread has written it', () => {
    const cells = new RunCells(2)
    const a = cells.take()
    const b = cells.take()
    expect(new Set([a, b]).size).toBe(2)
    expect(cells.threadOf(a)).toBeUndefined()
    markStarted(cellsOf(cells.buffer), a, 7)
    expect(cells.threadOf(a)).toBe(7)
    expect(cells.threadOf(b)).toBeUndefined()
  })

  it('hands out a released cell cleared, and -1 when all are taken', () => {
    const cells = new RunCells(1)
    const a = cells.take()
    expect(cells.take()).toBe(-1)
    expect(cells.threadOf(-1)).toBeUndefined()
    markStarted(cellsOf(cells.buffer), a, 3)
    cells.release(a)
    const again = cells.take()
    expect(again).toBe(a)
    expect(cells.threadOf(again)).toBeUndefined()
  })
})
