! attitude.f90 - quaternion utilities
module attitude
  implicit none
  integer, parameter :: dp = kind(1.0d0)

contains

  !> Normalise a quaternion in place.
  !> TODO(alice, 2026-12-01, #42): guard against a zero quaternion
  subroutine quat_normalise(q)
    real(dp), intent(inout) :: q(4)
    real(dp) :: n
    n = sqrt(sum(q**2))
    q = q / n
  end subroutine quat_normalise

  function quat_label(q) result(s)
    real(dp), intent(in) :: q(4)
    character(len=64) :: s
    ! HACK: fixed-width label, long values are cut
    write(s, '(a, 4f8.4)') 'XXX quat! ', q
  end function quat_label

  ! FIXME: quat_multiply uses the JPL convention, the ICD wants Hamilton
  function quat_multiply(a, b) result(c)
    real(dp), intent(in) :: a(4), b(4)
    real(dp) :: c(4)
    c(1) = a(1)*b(1) - dot_product(a(2:4), b(2:4))
    c(2:4) = a(1)*b(2:4) + b(1)*a(2:4)  ! BUG: the cross product term is missing
  end function quat_multiply

end module attitude
