! integrator.f90 - fixed-step RK4 for the orbit simulator
module integrator
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  integer :: todo_count = 0
  character(len=*), parameter :: banner = 'TODO: not a comment, a string'
  character(len=*), parameter :: hint = "value ! FIXME inside a string"

contains

  ! TODO: adaptive step size (RKF45)
  subroutine rk4(f, t, y, h)
    interface
      function f(t, y) result(dy)
        import dp
        real(dp), intent(in) :: t, y(:)
        real(dp) :: dy(size(y))
      end function f
    end interface
    real(dp), intent(in) :: t, h
    real(dp), intent(inout) :: y(:)
    real(dp) :: k1(size(y)), k2(size(y)), k3(size(y)), k4(size(y))
    !FIXME(bob): h <= 0 is not checked
    k1 = f(t, y)
    k2 = f(t + h/2, y + h/2*k1)
    k3 = f(t + h/2, y + h/2*k2)
    k4 = f(t + h, y + h*k3)
    y = y + h/6*(k1 + 2*k2 + 2*k3 + k4)   ! XXX trailing: no error estimate
  end subroutine rk4

  subroutine report(y)
    real(dp), intent(in) :: y(:)
    print *, 'TODO: ', y   ! prints a label, not a task
    write(*, '(a)') "! HACK in a string"
    print *, 'a long ', &   ! BUG: the continuation drops the units
             'message', banner, hint, todo_count
    ! The todo list for this routine is in notes/design-review.md
  end subroutine report

end module integrator
